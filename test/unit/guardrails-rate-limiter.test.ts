import { describe, expect, it } from 'vitest';
import { budgetPeriod } from '../../runtime/gateway/limits/budgets.js';
import { duration, virtualKeyAt } from '../../runtime/gateway/limits/index.js';
import { memoryRateLimiter, type RateRule } from '../../runtime/gateway/limits/rate-limiter.js';

const rule = (key: string, limit: number, windowMs: number, cost = 1, force = false): RateRule => ({ key, limit, windowMs, cost, force });

describe('GCRA (memory adapter)', () => {
  it('admits a burst of `limit`, then refuses with a retry-after, then refills', async () => {
    let now = 1_000_000;
    const rl = memoryRateLimiter({ now: () => now });
    const r = rule('k', 5, 60_000);
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await rl.consume([r]);
      expect(d.allowed).toBe(true);
      remaining.push(d.rules[0].remaining);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const denied = await rl.consume([r]);
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBe(12_000); // one emission interval: 60 s / 5
    expect(denied.rules[0].resetMs).toBe(60_000);
    now += 12_000;
    expect((await rl.consume([r])).allowed).toBe(true);
    expect((await rl.consume([r])).allowed).toBe(false);
  });

  it('is all-or-nothing across rules: a refusal takes nothing from the others', async () => {
    const rl = memoryRateLimiter({ now: () => 0 });
    const tight = rule('tight', 1, 60_000);
    const loose = rule('loose', 10, 60_000);
    expect((await rl.consume([tight, loose])).allowed).toBe(true);
    for (let i = 0; i < 3; i++) expect((await rl.consume([tight, loose])).allowed).toBe(false);
    const d = await rl.consume([loose]);
    expect(d.rules[0].remaining).toBe(8); // only the first call took from it
  });

  it('tokens: a forced charge puts the bucket in debt and the next peek (cost 0) is refused', async () => {
    let now = 0;
    const rl = memoryRateLimiter({ now: () => now });
    expect((await rl.consume([rule('t', 1000, 60_000, 0)])).allowed).toBe(true);
    await rl.consume([rule('t', 1000, 60_000, 2500, true)]); // an answer used 2,500 tokens
    const peek = await rl.consume([rule('t', 1000, 60_000, 0)]);
    expect(peek.allowed).toBe(false);
    expect(peek.retryAfterMs).toBe(90_000); // 1,500 tokens over at 1,000 per minute
    now += 90_000;
    expect((await rl.consume([rule('t', 1000, 60_000, 0)])).allowed).toBe(true);
  });
});

describe('limit helpers', () => {
  it('budget periods and their resets (UTC)', () => {
    const t = Date.UTC(2025, 5, 14, 15, 30); // Saturday 14 June 2025
    expect(budgetPeriod('daily', t)).toEqual({ id: '2025-06-14', resetsAt: Date.UTC(2025, 5, 15) });
    expect(budgetPeriod('weekly', t)).toEqual({ id: 'w2025-06-09', resetsAt: Date.UTC(2025, 5, 16) });
    expect(budgetPeriod('monthly', t)).toEqual({ id: '2025-06', resetsAt: Date.UTC(2025, 6, 1) });
    expect(budgetPeriod('monthly', Date.UTC(2025, 11, 31, 23))).toEqual({ id: '2025-12', resetsAt: Date.UTC(2026, 0, 1) });
    expect(budgetPeriod(undefined, t)).toEqual({ id: 'all' });
  });

  it('reset durations in OpenAI format, and the virtual key a leaf path resolves to', () => {
    expect(duration(20)).toBe('20ms');
    expect(duration(1000)).toBe('1s');
    expect(duration(360_000)).toBe('6m0s');
    expect(duration(3_661_000)).toBe('1h1m1s');
    const cfg = { strategy: { mode: 'fallback' as const }, targets: [{ virtual_key: 'a' }, { targets: [{ virtual_key: 'b' }, { provider: 'openai' }] }] };
    expect(virtualKeyAt(cfg, 'config.targets[0]')).toBe('a');
    expect(virtualKeyAt(cfg, 'config.targets[1].targets[0]')).toBe('b');
    expect(virtualKeyAt({ virtual_key: 'top' }, 'config')).toBe('top');
  });
});
