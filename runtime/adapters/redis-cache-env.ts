import { readFileSync } from 'node:fs';
import type { KeyValueCache } from '../core/ports.js';
import { redisCache, type RedisCacheOptions } from './redis-cache.js';
import { DEFAULT_LOCAL_CACHE_BYTES, DEFAULT_LOCAL_TTL_SECONDS, tieredCache } from './tiered-cache.js';

function nonNegative(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number ≥ 0, got "${raw.slice(0, 40)}"`);
  return value;
}

const flag = (env: NodeJS.ProcessEnv, name: string) => /^(1|true|yes|on)$/i.test(env[name]?.trim() ?? '');

/** How to reach Redis/ElastiCache, from the environment (the table in docs/sync.md, "The shared cache"). */
export function redisOptionsFromEnv(url: string, env: NodeJS.ProcessEnv = process.env): RedisCacheOptions {
  const opts: RedisCacheOptions = {
    url,
    authToken: env.TOLLGATE_REDIS_AUTH_TOKEN?.trim() || undefined,
    username: env.TOLLGATE_REDIS_USERNAME?.trim() || undefined,
    cluster: flag(env, 'TOLLGATE_REDIS_CLUSTER'),
  };
  const caFile = env.TOLLGATE_REDIS_TLS_CA_FILE?.trim();
  // Read once at start-up, before any request.
  if (caFile) opts.tlsCa = readFileSync(caFile, 'utf8');
  const iamUser = env.TOLLGATE_REDIS_IAM_USER?.trim();
  if (iamUser) {
    if (opts.authToken) throw new Error('set TOLLGATE_REDIS_IAM_USER or TOLLGATE_REDIS_AUTH_TOKEN, not both');
    const cacheName = env.TOLLGATE_REDIS_IAM_CACHE_NAME?.trim();
    const region = env.TOLLGATE_REDIS_IAM_REGION?.trim() || env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
    if (!cacheName) throw new Error('TOLLGATE_REDIS_IAM_USER needs TOLLGATE_REDIS_IAM_CACHE_NAME (the replication group id or serverless cache name)');
    if (!region) throw new Error('TOLLGATE_REDIS_IAM_USER needs AWS_REGION (or TOLLGATE_REDIS_IAM_REGION)');
    if (!url.startsWith('rediss://')) throw new Error('ElastiCache IAM authentication needs TLS: TOLLGATE_REDIS_URL must start with rediss://');
    opts.iam = { userId: iamUser, cacheName: cacheName.toLowerCase(), region, serverless: flag(env, 'TOLLGATE_REDIS_IAM_SERVERLESS') };
  }
  return opts;
}

/**
 * The gateway's shared cache from the environment: Redis or ElastiCache at `url` (AUTH, IAM,
 * TLS, cluster mode: `redisOptionsFromEnv`) behind the bounded in-process layer
 * (`TOLLGATE_CACHE_LOCAL_MAX_BYTES`, default 64 MiB, 0 turns it off; `TOLLGATE_CACHE_LOCAL_TTL_SECONDS`, default 30).
 */
export function redisCacheFromEnv(url: string, env: NodeJS.ProcessEnv = process.env): KeyValueCache {
  const maxBytes = nonNegative(env, 'TOLLGATE_CACHE_LOCAL_MAX_BYTES', DEFAULT_LOCAL_CACHE_BYTES);
  const localTtlSeconds = nonNegative(env, 'TOLLGATE_CACHE_LOCAL_TTL_SECONDS', DEFAULT_LOCAL_TTL_SECONDS);
  const shared = redisCache(redisOptionsFromEnv(url, env));
  return maxBytes > 0 && localTtlSeconds > 0 ? tieredCache(shared, { maxBytes, localTtlSeconds }) : shared;
}
