/**
 * The rate-limiter port. One call checks (and, when every rule admits, takes from) several buckets
 * atomically, so a request denied by one rule consumes nothing from the others. The algorithm is
 * GCRA (generic cell rate algorithm): one stored number per bucket, the theoretical arrival time
 * (TAT); a bucket of `limit` per `windowMs` admits a burst of `limit` and refills continuously.
 *
 * Adapters: `memoryRateLimiter` (one process) and `redisRateLimiter` (shared by every gateway task,
 * one Lua script per request; see redis-rate-limiter.ts).
 */
export interface RateRule {
  /** Bucket key, e.g. `ak:key_1:req:rpm`. */
  key: string;
  limit: number;
  windowMs: number;
  /** What this call takes: 1 for a request, N tokens, or 0 to only ask whether the bucket is in debt. */
  cost: number;
  /** Take it even if it goes over (tokens are known only after the answer: the debt delays later calls). */
  force?: boolean;
}

export interface RuleState {
  key: string;
  limit: number;
  windowMs: number;
  allowed: boolean;
  /** How many more unit-cost calls the bucket would admit right now. */
  remaining: number;
  /** Until the bucket is full again, ms. */
  resetMs: number;
  /** When denied: until this call would be admitted, ms. */
  retryAfterMs: number;
}

export interface RateDecision {
  allowed: boolean;
  rules: RuleState[];
  retryAfterMs: number;
  /** Set when the shared store was unreachable and the configured fallback decided. */
  degraded?: 'local' | 'open' | 'closed';
}

export interface RateLimiter {
  readonly kind: string;
  consume(rules: readonly RateRule[]): Promise<RateDecision>;
  close(): Promise<void>;
}

/** The GCRA step for one bucket; shared by the memory adapter (the Lua script mirrors it). */
export function gcra(tatIn: number | undefined, now: number, rule: RateRule): { state: RuleState; newTat: number } {
  const T = rule.windowMs / rule.limit;
  const tat = Math.max(tatIn ?? now, now);
  const newTat = tat + rule.cost * T;
  const allowAt = newTat - rule.windowMs;
  const allowed = now >= allowAt;
  const basis = allowed ? newTat : tat;
  return {
    newTat,
    state: {
      key: rule.key,
      limit: rule.limit,
      windowMs: rule.windowMs,
      allowed,
      remaining: Math.max(0, Math.floor((rule.windowMs - (basis - now)) / T + 1e-9)),
      resetMs: Math.max(0, Math.ceil(basis - now)),
      retryAfterMs: allowed ? 0 : Math.max(1, Math.ceil(allowAt - now)),
    },
  };
}

export function decide(states: RuleState[], forced: boolean[]): RateDecision {
  const denied = states.filter((s, i) => !s.allowed && !forced[i]);
  return { allowed: denied.length === 0, rules: states, retryAfterMs: denied.reduce((m, s) => Math.max(m, s.retryAfterMs), 0) };
}

export function memoryRateLimiter(opts: { now?: () => number; maxKeys?: number } = {}): RateLimiter {
  const now = opts.now ?? Date.now;
  const tats = new Map<string, number>();
  const maxKeys = opts.maxKeys ?? 100_000;
  return {
    kind: 'memory',
    async consume(rules) {
      const t = now();
      const steps = rules.map((r) => gcra(tats.get(r.key), t, r));
      const decision = decide(
        steps.map((s) => s.state),
        rules.map((r) => r.force === true),
      );
      rules.forEach((r, i) => {
        if (decision.allowed || r.force) {
          if (tats.size >= maxKeys) {
            for (const [k, v] of tats) if (v <= t) tats.delete(k);
          }
          tats.set(r.key, steps[i].newTat);
        }
      });
      return decision;
    },
    async close() {
      tats.clear();
    },
  };
}
