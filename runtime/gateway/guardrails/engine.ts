import { BUILT_IN_CHECKS, type CheckInput, type CheckOutcome } from '../../core/guardrail-checks/index.js';
import type { CustomHostPolicy } from '../pipeline/custom-host.js';
import type { Feedback, HookDef } from './hooks.js';
import { webhookCheck, type WebhookOutcome } from './webhook.js';

/** One check's result, in Portkey's `hook_results` shape. */
export interface CheckResult {
  id: string;
  verdict: boolean;
  data: Record<string, unknown> | null;
  error?: { name: string; message: string };
  execution_time: number;
  transformed: boolean;
  created_at: string;
  fail_on_error: boolean;
}

export interface HookResult {
  id: string;
  type: 'guardrail' | 'mutator';
  verdict: boolean;
  deny: boolean;
  async: boolean;
  transformed: boolean;
  checks: CheckResult[];
  feedback: (Feedback & { metadata: Record<string, unknown> }) | null;
  execution_time: number;
  created_at: string;
}

/** What a phase produced: the results, whether to deny, and the rewritten body (when a check transformed it). */
export interface PhaseOutcome {
  results: HookResult[];
  denied: boolean;
  failed: boolean;
  /** Set when a check rewrote the text (redaction) or a webhook replaced the JSON. */
  json?: unknown;
}

export interface PhaseInput {
  base: Omit<CheckInput, 'text' | 'json'>;
  json: unknown;
  text(json: unknown): string;
  rewrite(json: unknown, fn: (t: string) => string): unknown;
}

function feedbackOf(hook: HookDef, checks: CheckResult[], verdict: boolean): HookResult['feedback'] {
  const chosen = verdict ? hook.onSuccess?.feedback : hook.onFail?.feedback;
  if (!chosen) return null;
  const ids = (pred: (c: CheckResult) => boolean) => checks.filter(pred).map((c) => c.id).join(', ');
  return {
    ...chosen,
    metadata: {
      ...(chosen.metadata ?? {}),
      successfulChecks: ids((c) => c.verdict),
      failedChecks: ids((c) => !c.verdict && !c.error),
      erroredChecks: ids((c) => !!c.error),
    },
  };
}

/**
 * Runs hooks for one phase. Built-in checks are synchronous and run in order, each seeing the text
 * as earlier checks rewrote it; webhook checks run concurrently. A hook passes when every check
 * passes or errored without `failOnError` (Portkey's rule); a failed hook with `deny` denies.
 */
export async function runPhase(hooks: readonly HookDef[], input: PhaseInput, policy?: CustomHostPolicy): Promise<PhaseOutcome> {
  let json = input.json;
  let transformedAny = false;
  const results: HookResult[] = [];
  for (const hook of hooks) {
    const started = Date.now();
    const t0 = performance.now();
    const checks: CheckResult[] = [];
    let hookTransformed = false;
    const pending: Promise<void>[] = [];
    for (const check of hook.checks) {
      const c0 = performance.now();
      const createdAt = new Date().toISOString();
      const failOnError = check.parameters.failOnError === true || check.parameters.fail_on_error === true;
      const record = (outcome: CheckOutcome | undefined, error: Error | undefined, transformed: boolean) => {
        checks.push({
          id: check.id,
          verdict: error ? false : outcome!.verdict,
          data: outcome ? { explanation: outcome.explanation, ...(outcome.data ?? {}) } : null,
          ...(error ? { error: { name: error.name === 'CheckParamError' ? 'ParameterError' : 'CheckError', message: error.message } } : {}),
          execution_time: Math.round((performance.now() - c0) * 1000) / 1000,
          transformed,
          created_at: createdAt,
          fail_on_error: failOnError,
        });
      };
      const checkInput = (): CheckInput => ({ ...input.base, text: input.text(json), json });
      if (check.id === 'default.webhook') {
        const snapshot = checkInput();
        pending.push(
          webhookCheck(snapshot, check.parameters, policy).then(
            (o: WebhookOutcome) => {
              if (o.replaceJson !== undefined) {
                json = o.replaceJson;
                hookTransformed = true;
              }
              record(o, undefined, o.replaceJson !== undefined);
            },
            (err: Error) => record(undefined, err, false),
          ),
        );
        continue;
      }
      const fn = BUILT_IN_CHECKS[check.id];
      try {
        const outcome = fn(checkInput(), check.parameters);
        let transformed = false;
        if (outcome.rewrite) {
          json = input.rewrite(json, outcome.rewrite);
          transformed = hookTransformed = true;
        }
        record(outcome, undefined, transformed);
      } catch (err) {
        (err as Error).name = (err as Error).constructor?.name ?? 'Error';
        record(undefined, err as Error, false);
      }
    }
    if (pending.length) await Promise.all(pending);
    const verdict = checks.every((c) => c.verdict || (!!c.error && !c.fail_on_error));
    if (hookTransformed) transformedAny = true;
    results.push({
      id: hook.id,
      type: hook.type,
      verdict,
      deny: hook.deny && !verdict,
      async: hook.async,
      transformed: hookTransformed,
      checks,
      feedback: feedbackOf(hook, checks, verdict),
      execution_time: Math.round((performance.now() - t0) * 1000) / 1000,
      created_at: new Date(started).toISOString(),
    });
  }
  return {
    results,
    denied: results.some((r) => r.deny),
    failed: results.some((r) => !r.verdict),
    ...(transformedAny ? { json } : {}),
  };
}
