import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../runtime/gateway/server.js';
import { redisRateLimiter, type BudgetEvent, type LimitsOptions } from '../../runtime/gateway/limits/index.js';
import { CHAT_BODY, gatewayHeaders, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';
import { startJsonReceiver } from '../support/json-receiver.js';

/** The fixture's API_KEY is `key_0` in workspace `ws_fixture`. */
let h: GatewayHarness;
beforeAll(async () => {
  h = await startGatewayHarness();
});
afterAll(async () => {
  await h?.close();
});

async function gateway(limits: LimitsOptions): Promise<RunningGateway> {
  return h.startAnotherGateway({ limits });
}

function call(gw: RunningGateway, headers: Record<string, string> = { 'x-portkey-virtual-key': 'openai-vk' }) {
  return fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: gatewayHeaders(headers), body: JSON.stringify(CHAT_BODY) });
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('rate limits at the gateway', () => {
  it('per API key: requests per minute, headers, then 429 with Retry-After', async () => {
    const gw = await gateway({ apiKeys: { key_0: { rate_limits: [{ type: 'requests', unit: 'rpm', value: 3 }] } } });
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(gw);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('3');
      seen.push(res.headers.get('x-ratelimit-remaining-requests')!);
      await res.arrayBuffer();
    }
    expect(seen).toEqual(['2', '1', '0']);
    const limited = await call(gw);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(19);
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limited.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$|m/);
    const body = (await limited.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(body.error.message).toMatch(/API key "key_0": 3 requests per minute/);
  });

  it('per workspace, and per virtual key (a limited key lets a fallback move on)', async () => {
    const ws = await gateway({ workspaces: { ws_fixture: { rate_limits: [{ type: 'requests', unit: 'rph', value: 1 }] } } });
    expect((await call(ws)).status).toBe(200);
    const wsLimited = await call(ws);
    expect(wsLimited.status).toBe(429);
    expect(((await wsLimited.json()) as { error: { message: string } }).error.message).toMatch(/workspace "ws_fixture"/);

    const vk = await gateway({ virtualKeys: { 'openai-vk': { rate_limits: [{ type: 'requests', unit: 'rpd', value: 1 }] } } });
    expect((await call(vk)).status).toBe(200);
    const direct = await call(vk);
    expect(direct.status).toBe(429);
    expect(direct.headers.get('retry-after')).toBeTruthy();
    const fallback = await call(vk, { 'x-portkey-config': JSON.stringify({ strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }] }) });
    expect(fallback.status).toBe(200);
    expect(fallback.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
    expect(fallback.headers.get('retry-after')).toBeNull();
    // A config's retry re-checks the limit after its own backoff; it does not sleep on Retry-After.
    const started = Date.now();
    const retried = await call(vk, { 'x-portkey-config': JSON.stringify({ virtual_key: 'openai-vk', retry: { attempts: 2 } }) });
    expect(retried.status).toBe(429);
    expect(Number(retried.headers.get('retry-after'))).toBeGreaterThan(60);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('Redis down: the gateway limits locally, or fails open, or answers 503 when configured to fail closed', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const dead = `redis://127.0.0.1:${port}`;
    const apiKeys = { key_0: { rate_limits: [{ type: 'requests', unit: 'rpm', value: 2 }] } };
    const statuses = async (gw: RunningGateway, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const res = await call(gw);
        out.push(res.status);
        await res.arrayBuffer();
      }
      return out;
    };
    const local = await gateway({ limiter: redisRateLimiter({ url: dead, onRedisDown: 'local' }), apiKeys });
    expect(await statuses(local, 3)).toEqual([200, 200, 429]);
    const open = await gateway({ limiter: redisRateLimiter({ url: dead, onRedisDown: 'open' }), apiKeys });
    expect(await statuses(open, 3)).toEqual([200, 200, 200]);
    const closed = await gateway({ limiter: redisRateLimiter({ url: dead, onRedisDown: 'closed' }), apiKeys });
    const refused = await call(closed);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limiter_unavailable');
  });

  it('tokens per minute: an answer that uses up the budget refuses the next call', async () => {
    const gw = await gateway({ apiKeys: { key_0: { rate_limits: [{ type: 'tokens', unit: 'rpm', value: 3 }] } } });
    const first = await call(gw);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('3');
    await first.arrayBuffer();
    await settle();
    const second = await call(gw);
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(/3 tokens per minute/);
  });
});

describe('budgets', () => {
  it('a virtual key token budget exhausts with a 412 naming the limit and reset, alerts once, and resets next period', async () => {
    let now = Date.UTC(2025, 5, 14, 12);
    const events: BudgetEvent[] = [];
    const gw = await gateway({
      now: () => now,
      onBudgetEvent: (e) => events.push(e),
      virtualKeys: { 'openai-vk': { usage_limits: { type: 'tokens', credit_limit: 40, alert_threshold: 20, periodic_reset: 'daily' } } },
    });
    let status = 200;
    let calls = 0;
    while (status === 200 && calls < 20) {
      const res = await call(gw);
      status = res.status;
      calls++;
      if (status !== 200) {
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('budget_exhausted');
        expect(body.error.message).toMatch(/virtual key "openai-vk" has used its tokens budget of 40 tokens for 2025-06-14; it resets at 2025-06-15T00:00:00.000Z/);
      } else await res.arrayBuffer();
      await settle();
    }
    expect(status).toBe(412);
    expect(calls).toBeGreaterThan(1);
    expect(events.map((e) => e.kind)).toEqual(['alert', 'exhausted']);
    expect(events[0]).toMatchObject({ scope: 'virtual_key', id: 'openai-vk', threshold: 20, period: '2025-06-14' });

    now = Date.UTC(2025, 5, 15, 0, 0, 1); // the next day: the budget has reset
    expect((await call(gw)).status).toBe(200);
  });

  it('budget events are POSTed to the alert webhook, once each per period', async () => {
    const hook = await startJsonReceiver();
    const posted = hook.bodies as { kind: string; id: string; used: number; threshold?: number }[];
    try {
      const gw = await gateway({
        alertWebhook: `${hook.url}/budget`,
        apiKeys: { key_0: { usage_limits: { type: 'tokens', credit_limit: 25, alert_threshold: 10, periodic_reset: 'weekly' } } },
      });
      let status = 200;
      for (let i = 0; i < 10 && status === 200; i++) {
        const res = await call(gw);
        status = res.status;
        await res.arrayBuffer();
        await settle();
      }
      expect(status).toBe(412);
      await new Promise((r) => setTimeout(r, 100));
      expect(posted.map((e) => e.kind)).toEqual(['alert', 'exhausted']);
      expect(posted[0]).toMatchObject({ scope: 'api_key', id: 'key_0', type: 'tokens', threshold: 10, limit: 25 });
      expect(posted[0].used).toBeGreaterThanOrEqual(10);
      expect(posted[1].used).toBeGreaterThanOrEqual(25);
    } finally {
      await hook.close();
    }
  });

  it('an API key cost budget (dollars) is refused at admission once spent; the control plane figure counts too', async () => {
    const gw = await gateway({ apiKeys: { key_0: { usage_limits: { type: 'cost', credit_limit: 0.000001, periodic_reset: 'monthly' } } } });
    expect((await call(gw)).status).toBe(200);
    await settle();
    const spent = await call(gw);
    expect(spent.status).toBe(412);
    expect(spent.headers.get('x-tollgate-budget-reset')).toMatch(/^\d{4}-\d{2}-01T00:00:00.000Z$/);

    const reported = await gateway({ apiKeys: { key_0: { usage_limits: { type: 'cost', credit_limit: 5, current_usage: 5 } } } });
    const res = await call(reported);
    expect(res.status).toBe(412);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/API key "key_0" has used its cost budget of \$5.00; it does not reset/);
  });
});
