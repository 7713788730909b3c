import type { Cluster, Redis } from 'ioredis';
import { connectRedis, type RedisConnectionOptions } from '../../adapters/redis-client.js';
import { readiness } from './budget-store.js';
import { decide, memoryRateLimiter, type RateDecision, type RateLimiter, type RateRule, type RuleState } from './rate-limiter.js';

/**
 * GCRA over every rule of a request in one Lua script: atomic across gateway tasks, one round trip.
 * The clock is Redis's own (TIME), so tasks with skewed clocks still agree. Each key expires when
 * its bucket would be full again. KEYS: the buckets; ARGV per key: limit, windowMs, cost, force.
 * Returns per key: allowed (0/1), remaining, resetMs, retryAfterMs.
 */
export const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local n = #KEYS
local out = {}
local tats = {}
local all = true
for i = 1, n do
  local b = (i - 1) * 4
  local limit = tonumber(ARGV[b + 1])
  local w = tonumber(ARGV[b + 2])
  local cost = tonumber(ARGV[b + 3])
  local force = ARGV[b + 4] == '1'
  local T = w / limit
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local newTat = tat + cost * T
  local allowAt = newTat - w
  local ok = now >= allowAt
  if not ok and not force then all = false end
  local basis = tat
  if ok then basis = newTat end
  local remaining = math.floor((w - (basis - now)) / T + 1e-9)
  if remaining < 0 then remaining = 0 end
  local retry = 0
  if not ok then retry = math.max(1, math.ceil(allowAt - now)) end
  tats[i] = newTat
  out[#out + 1] = ok and 1 or 0
  out[#out + 1] = remaining
  out[#out + 1] = math.max(0, math.ceil(basis - now))
  out[#out + 1] = retry
end
for i = 1, n do
  local b = (i - 1) * 4
  if all or ARGV[b + 4] == '1' then
    local ttl = math.ceil(tats[i] - now) + 1000
    redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', ttl)
  end
end
return out
`;

/** Connection: `url` (`redis://` or `rediss://`), AUTH token, ACL user, IAM, cluster mode, CA (as the cache). */
export interface RedisRateLimiterOptions extends RedisConnectionOptions {
  /** Default `tollgate:rl:`. */
  keyPrefix?: string;
  /** A command slower than this counts as Redis down; default 250 ms. */
  timeoutMs?: number;
  /**
   * When Redis cannot answer: `local` limits in this process alone (each task admits up to
   * `localFraction` × the limit; default 1), `open` admits everything, `closed` refuses (503).
   * Default `local`.
   */
  onRedisDown?: 'local' | 'open' | 'closed';
  localFraction?: number;
  /** Called when the fallback starts and ends (for logs/metrics). */
  onDegraded?: (degraded: boolean, reason?: string) => void;
}

type GcraClient = (Redis | Cluster) & { tollgateGcra(numKeys: number, ...args: (string | number)[]): Promise<number[]> };

export function redisRateLimiter(opts: RedisRateLimiterOptions): RateLimiter {
  const conn = connectRedis(opts, {
    keyPrefix: opts.keyPrefix ?? 'tollgate:rl:',
    // Never queue behind a dead connection: a limiter that waits is worse than the fallback.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.timeoutMs ?? 250,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  const client = conn.client as GcraClient;
  const ready = readiness(client, opts.timeoutMs ?? 250);
  client.defineCommand('tollgateGcra', { lua: GCRA_LUA });
  const mode = opts.onRedisDown ?? 'local';
  const fraction = opts.localFraction ?? 1;
  const local = memoryRateLimiter();
  let degraded = false;
  const setDegraded = (on: boolean, reason?: string) => {
    if (on !== degraded) {
      degraded = on;
      opts.onDegraded?.(on, reason);
    }
  };

  return {
    kind: 'redis',
    async consume(rules: readonly RateRule[]): Promise<RateDecision> {
      if (!rules.length) return { allowed: true, rules: [], retryAfterMs: 0 };
      try {
        await ready();
        const args: (string | number)[] = [];
        for (const r of rules) args.push(r.limit, r.windowMs, r.cost, r.force ? '1' : '0');
        const flat = await client.tollgateGcra(rules.length, ...rules.map((r) => r.key), ...args);
        setDegraded(false);
        const states: RuleState[] = rules.map((r, i) => ({
          key: r.key,
          limit: r.limit,
          windowMs: r.windowMs,
          allowed: flat[i * 4] === 1,
          remaining: flat[i * 4 + 1],
          resetMs: flat[i * 4 + 2],
          retryAfterMs: flat[i * 4 + 3],
        }));
        return decide(
          states,
          rules.map((r) => r.force === true),
        );
      } catch (err) {
        setDegraded(true, (err as Error).message);
        if (mode === 'open') return { allowed: true, rules: [], retryAfterMs: 0, degraded: 'open' };
        if (mode === 'closed') return { allowed: false, rules: [], retryAfterMs: 1000, degraded: 'closed' };
        const scaled = rules.map((r) => ({ ...r, limit: Math.max(1, Math.floor(r.limit * fraction)) }));
        return { ...(await local.consume(scaled)), degraded: 'local' };
      }
    },
    async close() {
      await local.close();
      await conn.close();
    },
  };
}
