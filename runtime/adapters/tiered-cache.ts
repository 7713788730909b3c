import type { KeyValueCache } from '../core/ports.js';

/** 64 MiB: room for thousands of cached responses, small next to a gateway task's memory. */
export const DEFAULT_LOCAL_CACHE_BYTES = 64 * 1024 * 1024;
/** How long a value read from the shared cache is trusted locally (another task may change it). */
export const DEFAULT_LOCAL_TTL_SECONDS = 30;

/** A shared cache that can say how long a value has left, in the same round trip as the read. */
export interface TtlAwareCache extends KeyValueCache {
  getWithTtl?(key: string): Promise<{ value: string; ttlMs: number | undefined } | undefined>;
}

export interface TieredCacheOptions {
  /** Budget of the in-process layer, in approximate bytes (keys and values as UTF-16, plus per-entry overhead). */
  maxBytes?: number;
  /** Larger values go to the shared cache only (default: an eighth of `maxBytes`). */
  maxEntryBytes?: number;
  /** Upper bound on how long a local copy is served without asking the shared cache again. */
  localTtlSeconds?: number;
}

export interface LocalLayerStats {
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

export type TieredCache = KeyValueCache & { localStats(): LocalLayerStats };

interface Entry {
  value: string;
  bytes: number;
  expiresAt: number;
}

/** Map overhead, the entry object and two string headers, roughly: keeps many tiny entries bounded too. */
const ENTRY_OVERHEAD = 96;
export const approximateBytes = (key: string, value: string) => ENTRY_OVERHEAD + 2 * (key.length + value.length);

/**
 * The bounded in-process layer in front of the shared cache (Redis/ElastiCache). Reads answer from
 * memory when they can, so a request never waits on a Redis round trip for data this task already
 * holds; misses read through (concurrent misses of one key share one round trip) and keep a copy.
 * Writes go to both. Entries are evicted least-recently-used by approximate size, so memory stays
 * within `maxBytes` however many distinct keys pass through; expiry follows the shared cache's TTL,
 * capped at `localTtlSeconds`. When the shared cache is down, what is held locally keeps serving.
 */
export function tieredCache(shared: TtlAwareCache, opts: TieredCacheOptions = {}): TieredCache {
  const maxBytes = Math.max(1024, opts.maxBytes ?? DEFAULT_LOCAL_CACHE_BYTES);
  const maxEntryBytes = opts.maxEntryBytes ?? Math.floor(maxBytes / 8);
  const localTtlMs = (opts.localTtlSeconds ?? DEFAULT_LOCAL_TTL_SECONDS) * 1000;
  // A Map iterates in insertion order: re-inserting on use makes its first key the least recently used.
  const entries = new Map<string, Entry>();
  const reading = new Map<string, Promise<string | undefined>>();
  let bytes = 0;
  const stats = { hits: 0, misses: 0, evictions: 0 };

  const drop = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    bytes -= entry.bytes;
  };

  const keep = (key: string, value: string, ttlMs: number | undefined) => {
    drop(key);
    const size = approximateBytes(key, value);
    if (size > maxEntryBytes) return;
    const lifetime = ttlMs !== undefined && ttlMs > 0 ? Math.min(ttlMs, localTtlMs) : localTtlMs;
    entries.set(key, { value, bytes: size, expiresAt: Date.now() + lifetime });
    bytes += size;
    while (bytes > maxBytes) {
      const oldest = entries.keys().next().value as string;
      drop(oldest);
      stats.evictions++;
    }
  };

  const readThrough = (key: string): Promise<string | undefined> => {
    const inFlight = reading.get(key);
    if (inFlight) return inFlight;
    // A write or delete of this key while the read is in flight makes its answer stale: not kept.
    const current = () => reading.get(key) === pending;
    const pending: Promise<string | undefined> = (async () => {
      try {
        if (shared.getWithTtl) {
          const found = await shared.getWithTtl(key);
          if (found && current()) keep(key, found.value, found.ttlMs);
          return found?.value;
        }
        const value = await shared.get(key);
        if (value !== undefined && current()) keep(key, value, undefined);
        return value;
      } finally {
        if (current()) reading.delete(key);
      }
    })();
    reading.set(key, pending);
    return pending;
  };

  return {
    get(key) {
      const entry = entries.get(key);
      if (entry) {
        if (entry.expiresAt > Date.now()) {
          entries.delete(key);
          entries.set(key, entry);
          stats.hits++;
          return Promise.resolve(entry.value);
        }
        drop(key);
      }
      stats.misses++;
      return readThrough(key);
    },
    async set(key, value, ttlSeconds) {
      reading.delete(key);
      keep(key, value, ttlSeconds ? ttlSeconds * 1000 : undefined);
      await shared.set(key, value, ttlSeconds);
    },
    async delete(key) {
      reading.delete(key);
      drop(key);
      await shared.delete(key);
    },
    ping: () => shared.ping(),
    async close() {
      entries.clear();
      bytes = 0;
      await shared.close();
    },
    localStats: () => ({ entries: entries.size, bytes, maxBytes, ...stats }),
  };
}
