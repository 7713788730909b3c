import type { ServerResponse } from 'node:http';
import type { RateDecision, RuleState } from './rate-limiter.js';
import { describeSpec, type RateLimitSpec, type ScopedRule } from './rules.js';

/** OpenAI's reset format: `1s`, `6m0s`, `20ms`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  let s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

function tightest(states: RuleState[], rules: ScopedRule[], type: RateLimitSpec['type']): RuleState | undefined {
  let best: RuleState | undefined;
  states.forEach((s, i) => {
    if (rules[i].spec.type !== type) return;
    if (!best || s.remaining < best.remaining || (!s.allowed && best.allowed)) best = s;
  });
  return best;
}

/** The OpenAI-style `x-ratelimit-*` headers of the tightest rule of each type. */
export function setRateHeaders(res: ServerResponse, decision: RateDecision, rules: ScopedRule[]): void {
  if (res.headersSent) return;
  for (const type of ['requests', 'tokens'] as const) {
    const s = tightest(decision.rules, rules, type);
    if (!s) continue;
    const current = Number(res.getHeader(`x-ratelimit-remaining-${type}`));
    if (Number.isFinite(current) && current < s.remaining) continue; // an earlier, tighter scope already reported
    res.setHeader(`x-ratelimit-limit-${type}`, String(s.limit));
    res.setHeader(`x-ratelimit-remaining-${type}`, String(s.remaining));
    res.setHeader(`x-ratelimit-reset-${type}`, duration(s.resetMs));
  }
}

/** Names the rule that refused and when to retry. */
export function limitedMessage(decision: RateDecision, rules: ScopedRule[]): string {
  const i = decision.rules.findIndex((s, k) => !s.allowed && !rules[k].force);
  const rule = rules[i];
  const wait = Math.ceil(decision.retryAfterMs / 1000);
  return rule ? `rate limit reached for ${rule.scope}: ${describeSpec(rule.spec)}; retry in ${wait} s` : `rate limit reached; retry in ${wait} s`;
}
