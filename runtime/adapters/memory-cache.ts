import type { KeyValueCache } from '../core/ports.js';
import { DEFAULT_LOCAL_CACHE_BYTES, tieredCache, type TieredCache } from './tiered-cache.js';

/** Nothing behind the in-process layer: a single task's cache lives in memory only. */
const nowhere: KeyValueCache = {
  get: async () => undefined,
  set: async () => undefined,
  delete: async () => undefined,
  ping: async () => true,
  close: async () => undefined,
};

/**
 * In-process cache for dev and single-task deployments: entries expire with their TTL, and the
 * whole is bounded (`maxBytes`, default 64 MiB, least recently used evicted by approximate size),
 * so response caching with ever-new keys cannot grow the process without limit.
 */
export function memoryCache(opts: { maxBytes?: number } = {}): TieredCache {
  const maxBytes = opts.maxBytes ?? DEFAULT_LOCAL_CACHE_BYTES;
  // Large values (the persisted snapshot) are kept too: there is no shared store to fall back on.
  return tieredCache(nowhere, { maxBytes, maxEntryBytes: maxBytes, localTtlSeconds: Number.POSITIVE_INFINITY });
}
