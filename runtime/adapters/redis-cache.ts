import { Redis, type RedisOptions } from 'ioredis';
import type { TtlAwareCache } from './tiered-cache.js';

export interface RedisCacheOptions {
  /** `redis://host:6379` or `rediss://host:6379` (TLS, as ElastiCache with in-transit encryption needs). */
  url: string;
  /** ElastiCache AUTH token; overrides a password in the URL. */
  authToken?: string;
  /** Prefix for every key, so several gateways can share one Redis. Default `tollgate:`. */
  keyPrefix?: string;
}

/** The shared gateway cache for multi-task deployments (ElastiCache Valkey/Redis). */
export function redisCache(opts: RedisCacheOptions): TtlAwareCache {
  const tls = opts.url.startsWith('rediss://');
  const options: RedisOptions = {
    keyPrefix: opts.keyPrefix ?? 'tollgate:',
    // Fail fast instead of queueing forever: the gateway keeps serving from memory when Redis is away.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    lazyConnect: false,
    ...(tls ? { tls: {} } : {}),
    ...(opts.authToken ? { password: opts.authToken } : {}),
  };
  const client = new Redis(opts.url, options);
  // Without a listener ioredis prints every reconnect error; the callers report failures themselves.
  client.on('error', () => {});
  return {
    async get(key) {
      const value = await client.get(key);
      return value ?? undefined;
    },
    async getWithTtl(key) {
      // One round trip: the value and how long it has left, so a local copy never outlives it.
      const [[, value], [, ttl]] = (await client.multi().get(key).pttl(key).exec()) as [[unknown, string | null], [unknown, number]];
      if (value === null) return undefined;
      return { value, ttlMs: ttl > 0 ? ttl : undefined };
    },
    async set(key, value, ttlSeconds) {
      if (ttlSeconds) await client.set(key, value, 'EX', ttlSeconds);
      else await client.set(key, value);
    },
    async delete(key) {
      await client.del(key);
    },
    async ping() {
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
