import { z } from 'zod';
import type { RateRule } from './rate-limiter.js';

/**
 * `rate_limits` (Portkey's shape): `[{ type: 'requests' | 'tokens', unit: 'rpm' | 'rph' | 'rpd', value }]`.
 * Requests are taken when a call is admitted; tokens are counted after the answer (a bucket in
 * debt refuses the next calls until it refills).
 */
export const rateLimitSchema = z.object({
  type: z.enum(['requests', 'tokens']),
  unit: z.enum(['rpm', 'rph', 'rpd']),
  value: z.number().int().positive(),
});
export type RateLimitSpec = z.infer<typeof rateLimitSchema>;

export const WINDOW_MS: Record<RateLimitSpec['unit'], number> = { rpm: 60_000, rph: 3_600_000, rpd: 86_400_000 };
const UNIT_WORD: Record<RateLimitSpec['unit'], string> = { rpm: 'minute', rph: 'hour', rpd: 'day' };

export function describeSpec(spec: RateLimitSpec): string {
  return `${spec.value} ${spec.type} per ${UNIT_WORD[spec.unit]}`;
}

const parsed = new WeakMap<object, RateLimitSpec[]>();

/** Valid entries only; an invalid one is skipped (the control plane validates on write). */
export function parseRateLimits(raw: unknown): RateLimitSpec[] {
  if (!Array.isArray(raw)) return [];
  let v = parsed.get(raw);
  if (!v) {
    v = raw.flatMap((e) => {
      const r = rateLimitSchema.safeParse(e);
      return r.success ? [r.data] : [];
    });
    parsed.set(raw, v);
  }
  return v;
}

export interface ScopedRule extends RateRule {
  spec: RateLimitSpec;
  scope: string;
}

/** `scope` like `api key "key_1"`; key prefix like `ak:key_1`. */
export function rulesFor(specs: readonly RateLimitSpec[], prefix: string, scope: string, tokens = 0): ScopedRule[] {
  return specs.map((spec) => ({
    key: `${prefix}:${spec.type === 'requests' ? 'req' : 'tok'}:${spec.unit}`,
    limit: spec.value,
    windowMs: WINDOW_MS[spec.unit],
    cost: spec.type === 'requests' ? 1 : tokens,
    force: spec.type === 'tokens' && tokens > 0,
    spec,
    scope,
  }));
}
