import { connectRedis, type RedisConnectionOptions } from './redis-client.js';
import type { TtlAwareCache } from './tiered-cache.js';

export interface RedisCacheOptions extends RedisConnectionOptions {
  /** Prefix for every key, so several gateways can share one Redis. Default `tollgate:`. */
  keyPrefix?: string;
}

/** The shared gateway cache for multi-task deployments (ElastiCache Valkey/Redis). */
export function redisCache(opts: RedisCacheOptions): TtlAwareCache {
  // Fail fast instead of queueing forever: the gateway keeps serving from memory when Redis is away.
  const { client, ready, close } = connectRedis(opts, { keyPrefix: opts.keyPrefix ?? 'tollgate:', maxRetriesPerRequest: 2, enableOfflineQueue: true });
  return {
    async get(key) {
      await ready;
      const value = await client.get(key);
      return value ?? undefined;
    },
    async getWithTtl(key) {
      await ready;
      // One round trip (a pipeline: ElastiCache refuses MULTI on IAM-authenticated connections):
      // the value and how long it has left, so a local copy never outlives it.
      const results = (await client.pipeline().get(key).pttl(key).exec()) ?? [];
      const [[getErr, value], [, ttl]] = results as [[Error | null, string | null], [Error | null, number]];
      if (getErr) throw getErr;
      if (value === null) return undefined;
      return { value, ttlMs: ttl > 0 ? ttl : undefined };
    },
    async set(key, value, ttlSeconds) {
      await ready;
      if (ttlSeconds) await client.set(key, value, 'EX', ttlSeconds);
      else await client.set(key, value);
    },
    async delete(key) {
      await ready;
      await client.del(key);
    },
    async ping() {
      try {
        await ready;
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    close,
  };
}
