import { setTimeout as sleep } from 'node:timers/promises';
import type { GroupPlan, LeafPlan, PlanNode } from './plan.js';
import type { UpstreamResult } from './upstream.js';

/** The answer a plan produced: which leaf gave it and how many retries that leaf needed. */
export interface Outcome {
  result: UpstreamResult;
  leaf: LeafPlan;
  retries: number;
}

export type SendToLeaf = (leaf: LeafPlan) => Promise<UpstreamResult>;

const isSuccess = (status: number) => status >= 200 && status < 300;

/** An answer we move past must be drained, or its socket never returns to the pool. */
function discard(result: UpstreamResult): void {
  if (result.kind === 'response') result.body.dump().catch(() => {});
}

/** Small exponential backoff with jitter: 50 ms, 100 ms, ... capped at 1 s. */
function backoffMs(attempt: number, random: () => number): number {
  return Math.min(1000, 50 * 2 ** attempt) * (0.5 + random() / 2);
}

async function runLeaf(leaf: LeafPlan, send: SendToLeaf, random: () => number): Promise<Outcome> {
  const attempts = leaf.retry?.attempts ?? 0;
  for (let retries = 0; ; retries++) {
    const result = await send(leaf);
    const retryable = retries < attempts && !isSuccess(result.status) && leaf.retry!.onStatusCodes.includes(result.status);
    if (!retryable) return { result, leaf, retries };
    discard(result);
    await sleep(backoffMs(retries, random));
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

/** Does this child's answer send a fallback on? Its own codes, else the strategy's, else any non-2xx. */
function triggersFallback(group: GroupPlan, child: PlanNode, status: number): boolean {
  if (isSuccess(status)) return false;
  const codes = child.onStatusCodes ?? group.strategyStatusCodes;
  return codes ? codes.includes(status) : true;
}

async function runGroup(group: GroupPlan, send: SendToLeaf, random: () => number): Promise<Outcome> {
  if (group.mode === 'loadbalance') return run(pickWeighted(group.children, random), send, random);
  if (group.mode === 'single') return run(group.children[0], send, random);
  let outcome: Outcome | undefined;
  for (let i = 0; i < group.children.length; i++) {
    if (outcome) discard(outcome.result);
    outcome = await run(group.children[i], send, random);
    if (!triggersFallback(group, group.children[i], outcome.result.status)) break;
  }
  return outcome!;
}

export function run(node: PlanNode, send: SendToLeaf, random: () => number = Math.random): Promise<Outcome> {
  return node.kind === 'leaf' ? runLeaf(node, send, random) : runGroup(node, send, random);
}
