import type { Cluster, Redis } from 'ioredis';
import { connectRedis, type RedisConnectionOptions } from '../../adapters/redis-client.js';

/**
 * Usage counters for budgets, per entity and period, shared by every gateway task through Redis
 * (INCRBYFLOAT: atomic). Keys expire a little after their period ends.
 */
export interface BudgetStore {
  readonly kind: string;
  /** Adds `amount` and returns the new total. */
  add(key: string, amount: number, ttlSeconds: number): Promise<number>;
  get(key: string): Promise<number>;
  /** true only the first time per key (an alert fires once per period). */
  once(key: string, ttlSeconds: number): Promise<boolean>;
  close(): Promise<void>;
}

export function memoryBudgetStore(): BudgetStore {
  const totals = new Map<string, { value: number; expiresAt: number }>();
  const flags = new Map<string, number>();
  const live = (key: string) => {
    const e = totals.get(key);
    if (e && e.expiresAt <= Date.now()) totals.delete(key);
    return totals.get(key);
  };
  return {
    kind: 'memory',
    async add(key, amount, ttl) {
      const e = live(key) ?? { value: 0, expiresAt: Date.now() + ttl * 1000 };
      e.value += amount;
      totals.set(key, e);
      return e.value;
    },
    async get(key) {
      return live(key)?.value ?? 0;
    },
    async once(key, ttl) {
      const at = flags.get(key);
      if (at !== undefined && at > Date.now()) return false;
      flags.set(key, Date.now() + ttl * 1000);
      return true;
    },
    async close() {
      totals.clear();
      flags.clear();
    },
  };
}

/**
 * Commands are never queued behind a dead connection (`enableOfflineQueue: false`), so a caller
 * falls back at once when Redis is down. Only before the first connection completes does a command
 * wait for it (up to `timeoutMs`): a gateway that just started is not "Redis down".
 */
export function readiness(client: Redis | Cluster, timeoutMs: number): () => Promise<void> {
  let waited = client.status === 'ready';
  client.once('ready', () => (waited = true));
  let first: Promise<void> | undefined;
  return async () => {
    if (client.status === 'ready' || waited) return;
    // Only the first wait (at start-up) is paid; afterwards a missing connection fails fast.
    first ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.off('ready', onReady);
        waited = true;
        reject(new Error('redis is not connected'));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      client.once('ready', onReady);
    });
    await first;
  };
}

/** Adds and sets the expiry in one step: atomic, one key (so any cluster slot), and no MULTI (refused on IAM connections). */
const ADD_LUA = `local v = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1]) redis.call('EXPIRE', KEYS[1], ARGV[2]) return v`;

type BudgetClient = (Redis | Cluster) & { tollgateBudgetAdd(key: string, amount: number, ttl: number): Promise<string> };

/** Connection as the cache (`url`, AUTH token, ACL user, IAM, cluster mode, CA). */
export interface RedisBudgetStoreOptions extends RedisConnectionOptions {
  /** Default `tollgate:budget:`. */
  keyPrefix?: string;
  /** A command slower than this counts as Redis down; default 250 ms. */
  timeoutMs?: number;
}

export function redisBudgetStore(opts: RedisBudgetStoreOptions): BudgetStore {
  const conn = connectRedis(opts, {
    keyPrefix: opts.keyPrefix ?? 'tollgate:budget:',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.timeoutMs ?? 250,
  });
  const client = conn.client as BudgetClient;
  client.defineCommand('tollgateBudgetAdd', { numberOfKeys: 1, lua: ADD_LUA });
  const ready = readiness(client, opts.timeoutMs ?? 250);
  return {
    kind: 'redis',
    async add(key, amount, ttl) {
      await ready();
      return Number(await client.tollgateBudgetAdd(key, amount, ttl));
    },
    async get(key) {
      await ready();
      return Number((await client.get(key)) ?? 0);
    },
    async once(key, ttl) {
      await ready();
      return (await client.set(key, '1', 'EX', ttl, 'NX')) === 'OK';
    },
    async close() {
      await conn.close();
    },
  };
}
