import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryCache } from '../../runtime/adapters/memory-cache.js';
import { redisCache } from '../../runtime/adapters/redis-cache.js';
import { approximateBytes, tieredCache, type TtlAwareCache } from '../../runtime/adapters/tiered-cache.js';

/** The bounded in-process layer in front of the shared cache: LRU by approximate bytes. */

function counted(shared: TtlAwareCache) {
  const calls = { get: 0 };
  const wrapped: TtlAwareCache = {
    ...shared,
    get: (k) => {
      calls.get++;
      return shared.get(k);
    },
    getWithTtl: shared.getWithTtl
      ? (k) => {
          calls.get++;
          return shared.getWithTtl!(k);
        }
      : undefined,
  };
  return { wrapped, calls };
}

describe('in-process layer (unit)', () => {
  it('evicts the least recently used entries by size, and never holds more than its budget', async () => {
    const { wrapped, calls } = counted(memoryCache());
    const value = 'x'.repeat(200);
    const one = approximateBytes('k0', value);
    const layer = tieredCache(wrapped, { maxBytes: 3 * one + 10, maxEntryBytes: 3 * one });
    await layer.set('k0', value);
    await layer.set('k1', value);
    await layer.set('k2', value);
    expect(layer.localStats()).toMatchObject({ entries: 3, bytes: 3 * one, evictions: 0 });
    expect(await layer.get('k0')).toBe(value); // k0 is now the most recently used; k1 the least
    await layer.set('k3', value);
    expect(layer.localStats()).toMatchObject({ entries: 3, bytes: 3 * one, evictions: 1 });
    const before = calls.get;
    expect(await layer.get('k0')).toBe(value);
    expect(await layer.get('k3')).toBe(value);
    expect(calls.get).toBe(before); // held locally: no shared-cache read
    expect(await layer.get('k1')).toBe(value); // evicted locally, still in the shared cache
    expect(calls.get).toBe(before + 1);
    expect(layer.localStats().bytes).toBeLessThanOrEqual(3 * one + 10);

    // A value over the per-entry limit is written through and not held.
    const big = 'y'.repeat(3 * one);
    await layer.set('big', big);
    expect(layer.localStats().entries).toBe(3);
    expect(await layer.get('big')).toBe(big);
    // A bigger value replacing a small one is accounted at its new size.
    await layer.set('k0', value + value);
    expect(layer.localStats().bytes).toBeLessThanOrEqual(3 * one + 10);
  });

  it('the memory-only cache (single task, dev) is bounded the same way, and keeps TTLs', async () => {
    const cache = memoryCache({ maxBytes: 64 * 1024 });
    for (let i = 0; i < 10_000; i++) await cache.set(`churn-${i}`, `${i}`.padEnd(1000, 'z'), 300);
    const stats = cache.localStats();
    expect(stats.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(stats.evictions).toBeGreaterThan(9_900);
    expect(await cache.get('churn-9999')).toBe('9999'.padEnd(1000, 'z'));
    expect(await cache.get('churn-0')).toBeUndefined();
    await cache.set('brief', 'v', 1);
    expect(await cache.get('brief')).toBe('v');
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await cache.get('brief')).toBeUndefined();
  });

  it('concurrent misses of one key share one shared-cache read; a write during the read wins', async () => {
    const shared = memoryCache();
    await shared.set('a', 'old');
    const { wrapped, calls } = counted(shared);
    const layer = tieredCache(wrapped, { maxBytes: 1 << 20 });
    const [x, y, z] = await Promise.all([layer.get('a'), layer.get('a'), layer.get('a')]);
    expect([x, y, z]).toEqual(['old', 'old', 'old']);
    expect(calls.get).toBe(1);

    await layer.delete('a');
    await shared.set('a', 'old');
    const reading = layer.get('a');
    await layer.set('a', 'new');
    expect(await reading).toBe('old');
    expect(await layer.get('a')).toBe('new'); // the stale read was not kept over the write
  });
});

const REDIS_SERVER = '/usr/bin/redis-server';
const hasRedis = existsSync(REDIS_SERVER);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(!hasRedis)('in-process layer over a real redis-server', () => {
  let redis: ChildProcess | undefined;
  let port: number;
  const startRedis = () => {
    redis = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  };
  beforeAll(async () => {
    port = await freePort();
    startRedis();
  });
  afterAll(() => {
    redis?.kill('SIGKILL');
  });

  it('a local copy does not outlive the shared TTL; values held locally keep serving while Redis is down', async () => {
    const url = `redis://127.0.0.1:${port}`;
    const writer = redisCache({ url });
    for (let i = 0; i < 100 && !(await writer.ping()); i++) await sleep(50);
    const layer = tieredCache(redisCache({ url }), { maxBytes: 1 << 20, localTtlSeconds: 30 });
    await writer.set('short', 'v', 1);
    expect(await layer.get('short')).toBe('v');
    await sleep(1_200);
    expect(await layer.get('short')).toBeUndefined();

    await layer.set('held', 'still here', 60);
    await writer.close();
    redis!.kill('SIGKILL');
    await new Promise((r) => redis!.once('exit', r));
    expect(await layer.ping()).toBe(false);
    expect(await layer.get('held')).toBe('still here'); // no round trip: Redis is gone
    await expect(layer.get('never-held')).rejects.toThrow();
    startRedis();
    for (let i = 0; i < 100 && !(await layer.ping()); i++) await sleep(100);
    expect(await layer.ping()).toBe(true);
    await layer.close();
  }, 30_000);

  it('memory stays flat under key churn: 20 MB of distinct keys through a 256 KiB layer', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const url = `redis://127.0.0.1:${port}`;
    const shared = redisCache({ url, keyPrefix: 'churn:' });
    for (let i = 0; i < 100 && !(await shared.ping()); i++) await sleep(50);
    const maxBytes = 256 * 1024;
    const layer = tieredCache(shared, { maxBytes });
    const payload = (i: number) => `${i}:`.padEnd(1000, 'z');
    let heapAfterFirst = 0;
    let maxSeen = 0;
    for (let batch = 0; batch < 20; batch++) {
      const ops: Promise<unknown>[] = [];
      for (let i = batch * 1000; i < (batch + 1) * 1000; i++) ops.push(layer.set(`k${i}`, payload(i), 300));
      await Promise.all(ops);
      // Half of them read back: recent ones from memory, older ones through Redis (and kept again).
      const reads = await Promise.all(Array.from({ length: 500 }, (_, j) => layer.get(`k${batch * 1000 - 500 + j * 2 + 1}`)));
      if (batch > 0) expect(reads.every((v, j) => v === payload(batch * 1000 - 500 + j * 2 + 1))).toBe(true);
      maxSeen = Math.max(maxSeen, layer.localStats().bytes);
      if (batch === 1) {
        gc();
        heapAfterFirst = process.memoryUsage().heapUsed;
      }
    }
    gc();
    const growth = process.memoryUsage().heapUsed - heapAfterFirst;
    const stats = layer.localStats();
    expect(maxSeen).toBeLessThanOrEqual(maxBytes);
    expect(stats.evictions).toBeGreaterThan(15_000);
    expect(stats.entries).toBeLessThan(maxBytes / 1000);
    // 18 MB more went through after the baseline; what stays is bounded by the budget (plus noise).
    expect(growth).toBeLessThan(4 * 1024 * 1024);
    await layer.close();
  }, 60_000);
});
