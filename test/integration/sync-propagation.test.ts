import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCache } from '../../runtime/adapters/redis-cache.js';
import { silentLogger } from '../../runtime/core/logger.js';
import type { KeyValueCache } from '../../runtime/core/ports.js';
import { startGateway, type RunningGateway } from '../../runtime/gateway/server.js';
import { startMockOpenAI } from '../support/mock-openai.js';
import type { MockServer } from '../support/mock-base.js';
import { startTestControlPlane, tempDir, type TestControlPlane } from '../support/cp-harness.js';

const REDIS = process.env.TOLLGATE_TEST_REDIS_URL;
const SECRET = 'sk-propagation-secret-0123456789abcdef';

/**
 * A change made through the control-plane API serves traffic at every gateway within 2 s: two
 * gateways sharing one Redis, a heartbeat of 10 minutes (so only the push channel can explain a
 * fast propagation), measured from the API's answer to the first request that sees the change.
 */
describe.skipIf(!REDIS)('propagation through the push channel', () => {
  let t: TestControlPlane;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let upstream: MockServer;
  const gateways: RunningGateway[] = [];
  const caches: KeyValueCache[] = [];

  beforeAll(async () => {
    tmp = await tempDir();
    t = await startTestControlPlane({ keyringFile: `${tmp.dir}/keyring.json` });
    upstream = await startMockOpenAI({ name: 'upstream', apiKey: SECRET });
    for (let i = 0; i < 2; i++) {
      const cache = redisCache({ url: REDIS!, keyPrefix: `tollgate-prop-${process.pid}:` });
      caches.push(cache);
      gateways.push(
        await startGateway({
          port: 0,
          controlPlaneUrl: t.cp.url,
          dataPlaneToken: t.cp.dataPlaneToken,
          keyring: t.keyring,
          cache,
          syncIntervalMs: 600_000,
          devMode: true,
          logger: silentLogger,
          instanceId: `gw-${i}`,
        }),
      );
    }
    // Let both push channels connect.
    for (let i = 0; i < 50 && !gateways.every((g) => g.status().push); i++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all(caches.map((c) => c.close()));
    await upstream?.close();
    await t?.cp.close();
    await tmp?.cleanup();
  });

  async function chat(gw: RunningGateway, apiKey: string, vk: string): Promise<number> {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': apiKey, 'x-portkey-virtual-key': vk },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** Milliseconds until `check` holds on every gateway, polling every 5 ms. */
  async function until(check: (gw: RunningGateway) => Promise<boolean>, since: number): Promise<number> {
    const pending = new Set(gateways);
    const deadline = since + 10_000;
    while (pending.size && Date.now() < deadline) {
      for (const gw of [...pending]) if (await check(gw)) pending.delete(gw);
      if (pending.size) await new Promise((r) => setTimeout(r, 5));
    }
    expect(pending.size).toBe(0);
    return Date.now() - since;
  }

  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

  it('a new virtual key serves, and a deleted API key stops working, at both gateways within 2 s', async () => {
    const creates: number[] = [];
    const revokes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const key = await t.sdk.apiKeys.create({ type: 'organisation', 'sub-type': 'service', scopes: ['completions.write'] });
      const vk = await t.sdk.virtualKeys.create({ name: `prop-${i}`, provider: 'openai', key: SECRET, custom_host: `${upstream.url}/v1` } as never);
      const created = Date.now();
      creates.push(await until(async (gw) => (await chat(gw, key.key!, vk.slug!)) === 200, created));

      await t.sdk.apiKeys.delete({ id: key.id! });
      const revoked = Date.now();
      revokes.push(await until(async (gw) => (await chat(gw, key.key!, vk.slug!)) === 401, revoked));
    }
    const report = (name: string, xs: number[]) => `${name}: p50 ${pct(xs, 50)} ms, p99 ${pct(xs, 99)} ms, max ${Math.max(...xs)} ms (n=${xs.length})`;
    process.stdout.write(`[sync-propagation] ${report('change → served', creates)}; ${report('revocation → 401', revokes)}\n`);
    expect(Math.max(...creates)).toBeLessThan(2_000);
    expect(Math.max(...revokes)).toBeLessThan(2_000);
    // Deltas, not full snapshots, carried the changes.
    for (const gw of gateways) expect(gw.status().counters.delta).toBeGreaterThan(0);
    // Carried by the push channel itself (wait-delta), without a pull per change.
    for (const gw of gateways) expect(gw.status().counters.pushedDeltas).toBeGreaterThan(0);
  });

  it('lists both gateways in GET /v1/data-planes with their versions, lag and cache health', async () => {
    await Promise.all(gateways.map((g) => g.syncNow()));
    const res = await fetch(`${t.cp.url}/v1/data-planes`, { headers: { 'x-portkey-api-key': t.cp.adminApiKey } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: Record<string, unknown>[] };
    const ids = body.data.map((d) => d.instance_id).sort();
    expect(ids).toEqual(['gw-0', 'gw-1']);
    for (const d of body.data) {
      expect(d).toMatchObject({ organisation_id: t.cp.organisationId, sync_protocol: 2, cache: 'ok', push: true, revisions_behind: 0 });
      expect(d.gateway_version).toMatch(/^\d+\.\d+\.\d+/);
      expect(typeof d.uptime_seconds).toBe('number');
      expect(typeof d.sync_lag_seconds).toBe('number');
    }
    expect((await fetch(`${t.cp.url}/v1/data-planes`)).status).toBe(401);
  });
});
