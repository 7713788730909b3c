import type { KeyValueCache, SnapshotStore } from '../../core/ports.js';

/** The snapshot in the gateway's cache (Redis/ElastiCache shared by every task, or memory in dev). */
export function cacheSnapshotStore(cache: KeyValueCache, key: string): SnapshotStore {
  return {
    kind: 'cache',
    load: () => cache.get(key),
    save: (data) => cache.set(key, data),
  };
}
