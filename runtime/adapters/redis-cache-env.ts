import type { KeyValueCache } from '../core/ports.js';
import { redisCache } from './redis-cache.js';
import { DEFAULT_LOCAL_CACHE_BYTES, DEFAULT_LOCAL_TTL_SECONDS, tieredCache } from './tiered-cache.js';

function nonNegative(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number ≥ 0, got "${raw.slice(0, 40)}"`);
  return value;
}

/**
 * The gateway's shared cache from the environment (docs/sync.md, "The shared cache"): Redis or
 * ElastiCache at `url` with `TOLLGATE_REDIS_AUTH_TOKEN`, behind the bounded in-process layer
 * (`TOLLGATE_CACHE_LOCAL_MAX_BYTES`, default 64 MiB, 0 turns it off; `TOLLGATE_CACHE_LOCAL_TTL_SECONDS`, default 30).
 */
export function redisCacheFromEnv(url: string, env: NodeJS.ProcessEnv = process.env): KeyValueCache {
  const maxBytes = nonNegative(env, 'TOLLGATE_CACHE_LOCAL_MAX_BYTES', DEFAULT_LOCAL_CACHE_BYTES);
  const localTtlSeconds = nonNegative(env, 'TOLLGATE_CACHE_LOCAL_TTL_SECONDS', DEFAULT_LOCAL_TTL_SECONDS);
  const shared = redisCache({ url, authToken: env.TOLLGATE_REDIS_AUTH_TOKEN?.trim() || undefined });
  return maxBytes > 0 && localTtlSeconds > 0 ? tieredCache(shared, { maxBytes, localTtlSeconds }) : shared;
}
