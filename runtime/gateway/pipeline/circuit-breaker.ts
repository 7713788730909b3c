import { createHash } from 'node:crypto';
import type { KeyValueCache } from '../../core/ports.js';
import type { CircuitBreakerConfig, LeafPlan } from './plan.js';

/**
 * Per-target circuit breakers (`cb_config`). Counting is local to this task; an opened circuit is
 * published through the cache port (Redis in production) so every gateway task skips the target
 * until the cooldown ends. Reads never wait on the cache: the local view is refreshed in the
 * background at most once a second per target.
 */
export const DEFAULT_CB_FAILURE_CODES: readonly number[] = [408, 429, 500, 502, 503, 504];
const DEFAULT_COOLDOWN_MS = 30_000;
const WINDOW_MS = 60_000;
const REFRESH_MS = 1_000;
const PREFIX = 'tollgate:cb:';

interface State {
  failures: number;
  requests: number;
  windowStart: number;
  openUntil: number;
  /** Past the cooldown, waiting for a trial result. */
  halfOpen: boolean;
  lastSync: number;
}

const keys = new WeakMap<LeafPlan, string>();
/** Identity of a target: provider, base URL and a digest of its key (never the key itself). */
export function breakerKey(leaf: LeafPlan): string {
  let key = keys.get(leaf);
  if (!key) {
    const digest = createHash('sha256').update(`${leaf.provider.id}|${leaf.target.baseUrl}|${leaf.target.apiKey}|${JSON.stringify(leaf.target.options)}`).digest('base64url').slice(0, 22);
    keys.set(leaf, (key = digest));
  }
  return key;
}

export class CircuitBreakers {
  private readonly states = new Map<string, State>();

  constructor(
    private readonly cache?: KeyValueCache,
    private readonly now: () => number = Date.now,
  ) {}

  private state(key: string): State {
    let s = this.states.get(key);
    if (!s) {
      s = { failures: 0, requests: 0, windowStart: this.now(), openUntil: 0, halfOpen: false, lastSync: 0 };
      if (this.states.size > 10_000) this.states.delete(this.states.keys().next().value!);
      this.states.set(key, s);
    }
    return s;
  }

  /** Is the circuit open (skip the target)? Synchronous; may start a background refresh from the cache. */
  isOpen(key: string): boolean {
    const s = this.state(key);
    const now = this.now();
    if (this.cache && now - s.lastSync >= REFRESH_MS) {
      s.lastSync = now;
      this.cache
        .get(PREFIX + key)
        .then((value) => {
          const until = Number(value);
          if (until > this.now() && until > s.openUntil) s.openUntil = until;
        })
        .catch(() => {});
    }
    if (s.openUntil > now) return true;
    if (s.openUntil) {
      s.openUntil = 0;
      s.halfOpen = true; // the cooldown is over: let a trial through
    }
    return false;
  }

  /** Records one answer from the target. */
  record(key: string, cfg: CircuitBreakerConfig, status: number): void {
    const s = this.state(key);
    const now = this.now();
    const failed = (cfg.failure_status_codes ?? DEFAULT_CB_FAILURE_CODES).includes(status);
    if (!failed) {
      if (s.halfOpen) {
        s.halfOpen = false;
        s.failures = s.requests = 0;
        s.windowStart = now;
        this.cache?.delete(PREFIX + key).catch(() => {});
        return;
      }
    }
    if (now - s.windowStart > WINDOW_MS) {
      s.failures = s.requests = 0;
      s.windowStart = now;
    }
    s.requests++;
    if (failed) s.failures++;
    const min = cfg.minimum_requests ?? 1;
    const overCount = cfg.failure_threshold !== undefined && s.failures >= cfg.failure_threshold;
    const overPct = cfg.failure_threshold_percentage !== undefined && (s.failures / s.requests) * 100 >= cfg.failure_threshold_percentage;
    if ((failed && s.halfOpen) || (s.requests >= min && (overCount || overPct))) this.open(key, s, cfg);
  }

  private open(key: string, s: State, cfg: CircuitBreakerConfig): void {
    const cooldown = cfg.cooldown_interval ?? DEFAULT_COOLDOWN_MS;
    s.openUntil = this.now() + cooldown;
    s.halfOpen = false;
    s.failures = s.requests = 0;
    s.windowStart = this.now();
    this.cache?.set(PREFIX + key, String(s.openUntil), Math.max(1, Math.ceil(cooldown / 1000))).catch(() => {});
  }
}
