import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisBudgetStore, type BudgetEvent } from '../../runtime/gateway/limits/index.js';
import type { RunningGateway } from '../../runtime/gateway/server.js';
import { PRIMARY_SECRET, startObsHarness, waitFor, type ObsHarness } from '../support/observability.js';

const REDIS = process.env.TOLLGATE_TEST_REDIS_URL;

/**
 * Budgets reconciled with the control plane (issue 9): two gateways that share no Redis, one
 * control plane. The control plane sums every gateway's ingested metrics and returns the period's
 * usage on each heartbeat answer (304 included); a gateway enforces max(own counter, that figure).
 */
describe.skipIf(!REDIS)('budgets reconciled with the control plane on each heartbeat', () => {
  let h: ObsHarness;
  let redis: Redis;
  const prefix = `test:reconcile:${randomUUID()}:`;
  const previousCacheMs = process.env.TOLLGATE_BUDGET_USAGE_CACHE_MS;

  beforeAll(async () => {
    // Each heartbeat recomputes (the control plane runs in this process): no per-org cache between steps.
    process.env.TOLLGATE_BUDGET_USAGE_CACHE_MS = '0';
    // Rows count as soon as they are ingested (no settling margin): the test waits for them itself.
    process.env.TOLLGATE_BUDGET_USAGE_SETTLE_MS = '0';
    h = await startObsHarness();
    redis = new Redis(REDIS!);
  });
  afterAll(async () => {
    delete process.env.TOLLGATE_BUDGET_USAGE_SETTLE_MS;
    if (previousCacheMs === undefined) delete process.env.TOLLGATE_BUDGET_USAGE_CACHE_MS;
    else process.env.TOLLGATE_BUDGET_USAGE_CACHE_MS = previousCacheMs;
    await redis?.quit();
    await h?.close();
  });

  const call = (gw: RunningGateway, slug: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': h.cp.adminApiKey, 'x-portkey-virtual-key': slug },
      // The mock counts whitespace words: 3 prompt + 3 completion ("Hello from primary") = 6 tokens a call.
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one two three' }] }),
    });

  it('traffic through gateway A exhausts a key; gateway B refuses it after its next heartbeat (a 304), and A still does after a Redis flush', async () => {
    const created = await h.api('/v1/virtual-keys', {
      method: 'POST',
      json: {
        name: 'budgeted',
        provider: 'openai',
        key: PRIMARY_SECRET,
        custom_host: `${h.primary.url}/v1`,
        usage_limits: { type: 'tokens', credit_limit: 20, alert_threshold: 14, periodic_reset: 'daily' },
      },
    });
    expect(created.status).toBe(200);
    const slug = ((await created.json()) as { slug: string }).slug;

    const eventsA: BudgetEvent[] = [];
    const eventsB: BudgetEvent[] = [];
    const gwA = await h.startGateway({ limits: { budgets: redisBudgetStore({ url: REDIS!, keyPrefix: prefix }), onBudgetEvent: (e) => eventsA.push(e) } });
    const gwB = await h.startGateway({ limits: { onBudgetEvent: (e) => eventsB.push(e) } });

    const first = await call(gwB, slug);
    expect(first.status).toBe(200);
    await first.arrayBuffer();

    let status = 200;
    let callsA = 0;
    while (status === 200 && callsA < 10) {
      const res = await call(gwA, slug);
      status = res.status;
      callsA++;
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 30)); // settle() charges after the answer
    }
    expect(status).toBe(412);
    // 6, 12, 18, 24 tokens: A's own counter refuses the fifth call at the latest. The pull A makes to
    // claim its alert may bring the fleet's figure (B's 6 tokens included) and refuse the fourth.
    expect(callsA).toBeGreaterThanOrEqual(4);
    expect(callsA).toBeLessThanOrEqual(5);

    // B has not heard from the control plane yet: its own counter (12 tokens) still admits.
    const before = await call(gwB, slug);
    expect(before.status).toBe(200);
    await before.arrayBuffer();

    // Every admitted request of both gateways ingested: A's and B's two.
    await waitFor(async () => {
      const res = await h.api(`/v1/logs?page_size=100&virtual_key=${slug}`);
      const rows = ((await res.json()) as { data: { status: number }[] }).data ?? [];
      return rows.filter((r) => r.status === 200).length >= callsA - 1 + 2;
    }, 'the metric records of both gateways');

    const notModified = gwB.status().counters.notModified;
    await gwB.syncNow();
    expect(gwB.status().counters.notModified).toBe(notModified + 1); // the figure rode on a 304
    const refused = await call(gwB, slug);
    expect(refused.status).toBe(412);
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1)).toISOString();
    expect(refused.headers.get('x-tollgate-budget-reset')).toBe(tomorrow);
    const body = (await refused.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error).toMatchObject({ type: 'budget_exceeded', code: 'budget_exhausted' });
    expect(body.error.message).toBe(`virtual key "${slug}" has used its tokens budget of 20 tokens for ${today}; it resets at ${tomorrow}`);

    // The alert fired once, on A, whose request took the usage past 14; B's own counter (12) never
    // crossed it, and what the control plane told it is not a crossing of B's.
    expect(eventsA.map((e) => e.kind)).toEqual(['alert', 'exhausted']);
    expect(eventsB).toEqual([]);

    // A Redis flush wipes the shared counter. A gateway on that Redis that ignored the control plane
    // would admit again; A, after its heartbeat, still refuses.
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    const deaf = await h.startGateway({
      limits: { budgets: redisBudgetStore({ url: REDIS!, keyPrefix: prefix }), reconciled: { get: () => 0, accept: () => {}, updatedAt: 0 } },
    });
    const counterOnly = await call(deaf, slug);
    expect(counterOnly.status).toBe(200);
    await counterOnly.arrayBuffer();
    await gwA.syncNow();
    expect((await call(gwA, slug)).status).toBe(412);
    expect(eventsA.map((e) => e.kind)).toEqual(['alert', 'exhausted']);
  });

  it('rate limits and budgets set through the control plane API are synced and enforced per API key', async () => {
    const created = await h.api('/v1/api-keys/organisation/service', {
      method: 'POST',
      json: {
        name: 'limited',
        scopes: ['completions.write'],
        rate_limits: [{ type: 'requests', unit: 'rpm', value: 2 }],
        usage_limits: { type: 'cost', credit_limit: 100, alert_threshold: 50, periodic_reset: 'monthly' },
      },
    });
    expect(created.status).toBe(200);
    const { id, key } = (await created.json()) as { id: string; key: string };
    const gw = await h.startGateway();
    const send = () =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-portkey-api-key': key, 'x-portkey-virtual-key': h.slugs.primary },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one two three' }] }),
      });
    const remaining: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await send();
      expect(res.status).toBe(200);
      remaining.push(res.headers.get('x-ratelimit-remaining-requests')!);
      await res.arrayBuffer();
    }
    expect(remaining).toEqual(['1', '0']);
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { message: string } }).error.message).toContain(`API key "${id}": 2 requests per minute`);

    // The cost budget's usage comes back on the next heartbeat (2 answers ingested, cost > 0).
    await waitFor(async () => {
      const res = await h.api(`/v1/logs?page_size=10&api_key_ids=${id}`);
      return (((await res.json()) as { data: unknown[] }).data ?? []).length >= 2;
    }, 'the API key records');
    const answer = await fetch(`${h.cp.url}/v1/sync/snapshot?since=0`, { headers: { authorization: `Bearer ${h.cp.dataPlaneToken}`, 'x-tollgate-sync-protocol': '2' } });
    await answer.arrayBuffer();
    const usage = answer.headers.get('x-tollgate-budget-usage') ?? '';
    const mine = usage.split(',').find((e) => e.startsWith('a:c:') && e.endsWith(`:${encodeURIComponent(id)}`));
    expect(mine).toBeDefined();
    expect(Number(mine!.split(':')[3])).toBeGreaterThan(0);
    expect(answer.headers.get('x-tollgate-budget-usage-signature')).toMatch(/^hmac-sha256=/);
  });

  it('workspace rate limits set through the control plane are synced and shared by every key of the workspace', async () => {
    const ws = h.cp.defaultWorkspaceId;
    const keys: string[] = [];
    for (const name of ['ws-key-1', 'ws-key-2']) {
      const created = await h.api('/v1/api-keys/workspace/service', { method: 'POST', json: { name, workspace_id: ws, scopes: ['completions.write'] } });
      expect(created.status).toBe(200);
      keys.push(((await created.json()) as { key: string }).key);
    }
    const gw = await h.startGateway();
    const send = (key: string) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-portkey-api-key': key, 'x-portkey-virtual-key': h.slugs.primary },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
    const free = await send(keys[0]);
    expect(free.status).toBe(200);
    expect(free.headers.get('x-ratelimit-limit-requests')).toBeNull();
    await free.arrayBuffer();

    const put = await h.api(`/v1/admin/workspaces/${ws}`, { method: 'PUT', json: { rate_limits: [{ type: 'requests', unit: 'rph', value: 2 }] } });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { rate_limits: unknown }).rate_limits).toEqual([{ type: 'requests', unit: 'rph', value: 2 }]);
    await gw.syncNow();
    try {
      for (const key of keys) {
        const res = await send(key);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ratelimit-limit-requests')).toBe('2');
        await res.arrayBuffer();
      }
      const limited = await send(keys[0]);
      expect(limited.status).toBe(429);
      expect(((await limited.json()) as { error: { message: string } }).error.message).toContain(`workspace "${ws}": 2 requests per hour`);
    } finally {
      await h.api(`/v1/admin/workspaces/${ws}`, { method: 'PUT', json: { rate_limits: null } });
    }
  });

  it('gateways that share no Redis and both cross the alert threshold fire the alert once between them', async () => {
    const created = await h.api('/v1/virtual-keys', {
      method: 'POST',
      json: { name: 'alerted', provider: 'openai', key: PRIMARY_SECRET, custom_host: `${h.primary.url}/v1`, usage_limits: { type: 'tokens', credit_limit: 1000, alert_threshold: 10, periodic_reset: 'monthly' } },
    });
    const slug = ((await created.json()) as { slug: string }).slug;
    const events: { gw: string; kind: string }[] = [];
    const gwA = await h.startGateway({ limits: { onBudgetEvent: (e) => events.push({ gw: 'A', kind: e.kind }) } });
    const gwB = await h.startGateway({ limits: { onBudgetEvent: (e) => events.push({ gw: 'B', kind: e.kind }) } });
    // Each gateway counts alone (6 tokens a call): the second call on each takes its own view to 12.
    for (const gw of [gwA, gwB, gwA, gwB]) {
      const res = await call(gw, slug);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await waitFor(async () => events.length > 0 || undefined, 'a budget event');
    await new Promise((r) => setTimeout(r, 500)); // room for a second (wrong) one
    expect(events).toHaveLength(1);
    expect(events[0].kind).toBe('alert');
  });
});
