import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpProblem } from '../../core/errors.js';
import { matches, type ConditionInput } from './conditions.js';
import { breakerKey, type CircuitBreakers } from './circuit-breaker.js';
import type { GroupPlan, LeafPlan, PlanNode } from './plan.js';
import type { UpstreamResult } from './upstream.js';

/** The answer a plan produced: which leaf gave it and how many retries that leaf needed. */
export interface Outcome {
  result: UpstreamResult;
  leaf: LeafPlan;
  retries: number;
}

export type SendToLeaf = (leaf: LeafPlan) => Promise<UpstreamResult>;

export interface RunContext {
  random: () => number;
  breakers?: CircuitBreakers;
  /** metadata.* and params.* for conditional routing and sticky hashing. */
  input?: () => ConditionInput;
  /** Replaced in tests. */
  wait?: (ms: number) => Promise<unknown>;
}

const isSuccess = (status: number) => status >= 200 && status < 300;

/** An answer we move past must be drained, or its socket never returns to the pool. */
function discard(result: UpstreamResult): void {
  if (result.kind === 'response') result.body.dump().catch(() => {});
}

/** Exponential backoff with full jitter between half and all of 100 ms · 2^attempt, capped at 10 s. */
export function backoffMs(attempt: number, random: () => number): number {
  return Math.min(10_000, 100 * 2 ** attempt) * (0.5 + random() / 2);
}

/** The longest wait an upstream's retry-after may impose. */
export const RETRY_AFTER_CAP_MS = 60_000;

/** `retry-after-ms`, `x-ms-retry-after-ms` (Azure) or `retry-after` (seconds or an HTTP date), capped. */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
  const first = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  let ms: number | undefined;
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = Number(first(name));
    if (first(name) !== undefined && Number.isFinite(v) && v >= 0) {
      ms = v;
      break;
    }
  }
  const ra = first('retry-after');
  if (ms === undefined && ra !== undefined) {
    const seconds = Number(ra);
    if (Number.isFinite(seconds) && seconds >= 0) ms = seconds * 1000;
    else {
      const at = Date.parse(ra);
      if (Number.isFinite(at)) ms = Math.max(0, at - now);
    }
  }
  return ms === undefined ? undefined : Math.min(ms, RETRY_AFTER_CAP_MS);
}

function skip(node: PlanNode, ctx: RunContext): boolean {
  if (!ctx.breakers) return false;
  if (node.kind === 'leaf') return !!node.cb && ctx.breakers.isOpen(breakerKey(node));
  return node.children.every((child) => skip(child, ctx));
}

async function runLeaf(leaf: LeafPlan, send: SendToLeaf, ctx: RunContext): Promise<Outcome> {
  const attempts = leaf.retry?.attempts ?? 0;
  for (let retries = 0; ; retries++) {
    const result = await send(leaf);
    if (leaf.cb && ctx.breakers && result.kind !== 'rejected' && result.kind !== 'cached') ctx.breakers.record(breakerKey(leaf), leaf.cb, result.status);
    const retryable = retries < attempts && !isSuccess(result.status) && result.kind !== 'rejected' && leaf.retry!.onStatusCodes.includes(result.status);
    if (!retryable) return { result, leaf, retries };
    const after = result.kind === 'response' ? retryAfterMs(result.headers) : undefined;
    discard(result);
    await (ctx.wait ?? sleep)(after ?? backoffMs(retries, ctx.random));
  }
}

/** Weighted random choice; a weight of 0 takes a target out of rotation. */
export function pickWeighted<T extends { weight: number }>(items: readonly T[], random: () => number): T {
  const total = items.reduce((sum, item) => sum + Math.max(0, item.weight), 0);
  if (total <= 0) return items[0];
  let point = random() * total;
  for (const item of items) {
    point -= Math.max(0, item.weight);
    if (point < 0) return item;
  }
  return items[items.length - 1];
}

function lookupField(input: ConditionInput | undefined, path: string): unknown {
  if (!input) return undefined;
  const [root, ...rest] = path.split('.');
  let v: unknown = root === 'metadata' ? input.metadata : root === 'params' ? input.params : undefined;
  for (const k of rest) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** A stable point in [0, 1) from the sticky fields' values: the same values always pick the same target. */
function stickyRandom(fields: string[], input: ConditionInput | undefined): () => number {
  const values = JSON.stringify(fields.map((f) => lookupField(input, f) ?? null));
  const n = createHash('sha256').update(values).digest().readUInt32BE(0);
  return () => n / 2 ** 32;
}

/** Does this child's answer send a fallback on? Its own codes, else the strategy's, else any non-2xx. */
function triggersFallback(group: GroupPlan, child: PlanNode, status: number): boolean {
  if (isSuccess(status)) return false;
  const codes = child.onStatusCodes ?? group.strategyStatusCodes;
  return codes ? codes.includes(status) : true;
}

async function runGroup(group: GroupPlan, send: SendToLeaf, ctx: RunContext): Promise<Outcome> {
  if (group.mode === 'conditional') {
    const input = ctx.input?.() ?? { metadata: {}, params: {} };
    const hit = group.conditions?.find((c) => matches(c.query, input));
    const index = hit?.index ?? group.defaultIndex;
    if (index === undefined) throw new HttpProblem(400, `${group.path}: no condition matched and the strategy has no default`);
    return run(group.children[index], send, ctx);
  }
  // An open circuit takes its target out, unless every target is open (then all are tried as usual).
  const live = ctx.breakers ? group.children.filter((c) => !skip(c, ctx)) : group.children;
  const children = live.length ? live : group.children;
  if (group.mode === 'loadbalance') {
    const random = group.stickyFields ? stickyRandom(group.stickyFields, ctx.input?.()) : ctx.random;
    return run(pickWeighted(children, random), send, ctx);
  }
  if (group.mode === 'single') return run(children[0], send, ctx);
  let outcome: Outcome | undefined;
  for (const child of children) {
    if (outcome) discard(outcome.result);
    outcome = await run(child, send, ctx);
    if (!triggersFallback(group, child, outcome.result.status)) break;
  }
  return outcome!;
}

export function run(node: PlanNode, send: SendToLeaf, ctx: RunContext | (() => number) = Math.random): Promise<Outcome> {
  const context: RunContext = typeof ctx === 'function' ? { random: ctx } : ctx;
  return node.kind === 'leaf' ? runLeaf(node, send, context) : runGroup(node, send, context);
}
