import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { redisBudgetStore } from '../../runtime/gateway/limits/budget-store.js';
import { redisRateLimiter } from '../../runtime/gateway/limits/redis-rate-limiter.js';
import type { RateLimiter, RateRule } from '../../runtime/gateway/limits/rate-limiter.js';

const REDIS = process.env.TOLLGATE_TEST_REDIS_URL;
const rule = (key: string, limit: number, windowMs: number, cost = 1, force = false): RateRule => ({ key, limit, windowMs, cost, force });

async function deadUrl(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  return `redis://127.0.0.1:${port}`;
}

describe.skipIf(!REDIS)('Redis rate limiter (GCRA in Lua) and budget store', () => {
  const opened: { close(): Promise<void> }[] = [];
  const open = <T extends { close(): Promise<void> }>(x: T) => (opened.push(x), x);
  afterAll(async () => {
    await Promise.all(opened.map((x) => x.close()));
  });

  it('admits exactly `limit` under concurrency from several clients, all-or-nothing across rules', async () => {
    const prefix = `test:${randomUUID()}:`;
    const clients: RateLimiter[] = [1, 2, 3].map(() => open(redisRateLimiter({ url: REDIS!, keyPrefix: prefix })));
    const r = rule('{org}:ak:1:req:rpd', 50, 86_400_000);
    const decisions = await Promise.all(Array.from({ length: 150 }, (_, i) => clients[i % 3].consume([r])));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
    const denied = decisions.find((d) => !d.allowed)!;
    expect(denied.retryAfterMs).toBeGreaterThan(0);
    expect(denied.degraded).toBeUndefined();

    const tight = rule('{org}:tight', 1, 60_000);
    const loose = rule('{org}:loose', 10, 60_000);
    expect((await clients[0].consume([tight, loose])).allowed).toBe(true);
    expect((await clients[1].consume([tight, loose])).allowed).toBe(false);
    expect((await clients[2].consume([loose])).rules[0].remaining).toBe(8);
  });

  it('token debt is shared: a forced charge refuses the next peek', async () => {
    const rl = open(redisRateLimiter({ url: REDIS!, keyPrefix: `test:${randomUUID()}:` }));
    expect((await rl.consume([rule('t', 100, 60_000, 0)])).allowed).toBe(true);
    await rl.consume([rule('t', 100, 60_000, 250, true)]);
    const peek = await rl.consume([rule('t', 100, 60_000, 0)]);
    expect(peek.allowed).toBe(false);
    expect(peek.retryAfterMs).toBeGreaterThan(80_000);
  });

  it('Redis down: local limiting, fail-open or fail-closed as configured', async () => {
    const url = await deadUrl();
    const events: boolean[] = [];
    const local = open(redisRateLimiter({ url, onRedisDown: 'local', onDegraded: (d) => events.push(d) }));
    const r = rule('x', 2, 60_000);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await local.consume([r]));
    expect(results.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(results.every((d) => d.degraded === 'local')).toBe(true);
    expect(events).toEqual([true]);

    const openMode = open(redisRateLimiter({ url, onRedisDown: 'open' }));
    for (let i = 0; i < 3; i++) expect((await openMode.consume([r])).allowed).toBe(true);
    const closed = open(redisRateLimiter({ url, onRedisDown: 'closed' }));
    expect(await closed.consume([r])).toMatchObject({ allowed: false, degraded: 'closed' });

    const half = open(redisRateLimiter({ url, onRedisDown: 'local', localFraction: 0.5 }));
    const h = [];
    for (let i = 0; i < 3; i++) h.push((await half.consume([rule('y', 4, 60_000)])).allowed);
    expect(h).toEqual([true, true, false]);
  });

  it('budget store: atomic float counters, once-per-key flags', async () => {
    const store = open(redisBudgetStore({ url: REDIS!, keyPrefix: `test:${randomUUID()}:` }));
    const totals = await Promise.all(Array.from({ length: 20 }, () => store.add('b', 0.25, 60)));
    expect(Math.max(...totals)).toBeCloseTo(5);
    expect(await store.get('b')).toBeCloseTo(5);
    expect(await store.once('alert', 60)).toBe(true);
    expect(await store.once('alert', 60)).toBe(false);
  });
});
