/**
 * Pure guardrail checks, shared by the gateway (which runs them per request) and the control plane
 * (which can validate a guardrail's parameters or dry-run it). No I/O here: the webhook check lives
 * in the gateway. Check ids and parameter names follow Portkey's `default.*` plugins.
 */
export type CheckPhase = 'request' | 'response';

export interface CheckInput {
  /** The text under test: the last message (request) or the first choice (response), parts joined by "\n". */
  text: string;
  /** The whole request or response body. */
  json?: unknown;
  phase: CheckPhase;
  /** The model the request names. */
  model?: string;
  /** `x-portkey-metadata` plus the API key's default metadata. */
  metadata?: Readonly<Record<string, string>>;
}

export interface CheckOutcome {
  /** true: the check passed. */
  verdict: boolean;
  explanation: string;
  data?: Record<string, unknown>;
  /** A rewrite of every text field (redaction); applied by the engine to the request or response. */
  rewrite?: (text: string) => string;
}

export type CheckParams = Readonly<Record<string, unknown>>;
export type CheckFn = (input: CheckInput, params: CheckParams) => CheckOutcome;

/** A parameter problem: the engine reports it as the check's `error` (and a failed verdict). */
export class CheckParamError extends Error {}

export function param<T>(params: CheckParams, name: string, test: (v: unknown) => v is T, what: string): T {
  const v = params[name];
  if (!test(v)) throw new CheckParamError(`parameter "${name}" must be ${what}`);
  return v;
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
export const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
export const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
export const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** `not: true` inverts a check (Portkey's convention). */
export function withNot(params: CheckParams, passed: boolean): boolean {
  return params.not === true ? !passed : passed;
}
