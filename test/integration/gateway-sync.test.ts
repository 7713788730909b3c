import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { snapshotCacheKey } from '../../runtime/gateway/sync/sync-client.js';
import { startFixtureSyncServer } from '../support/fixture-sync-server.js';
import { CHAT_BODY, defaultSpec, gatewayHeaders, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

let h: GatewayHarness;
beforeAll(async () => {
  h = await startGatewayHarness();
});
afterAll(async () => h?.close());
beforeEach(() => h.openai.control.reset());

async function chat(url: string, headers: Record<string, string>) {
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: gatewayHeaders(headers), body: JSON.stringify(CHAT_BODY) });
  const json = (await res.json()) as any;
  return { status: res.status, text: json?.choices?.[0]?.message?.content };
}

describe('sync with the control plane', () => {
  it('authenticates and announces its protocol and version, then gets 304 while nothing changed', async () => {
    const pulls = () => h.sync.requests.filter((r) => r.url.startsWith('/v1/sync/snapshot'));
    const first = pulls()[0]!;
    expect(first.headers.authorization).toBe(`Bearer ${h.sync.token}`);
    expect(first.headers['x-tollgate-sync-protocol']).toBe('2');
    expect(first.headers['x-tollgate-gateway-version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(first.url).toBe('/v1/sync/snapshot?since=0');
    await h.gateway.syncNow();
    expect(pulls().at(-1)!.url).toBe('/v1/sync/snapshot?since=1');
    // The heartbeat report the control plane's data-plane registry keeps.
    expect(JSON.parse(pulls().at(-1)!.headers['x-tollgate-heartbeat'] as string)).toMatchObject({ synced_version: 1, cache: 'ok' });
    expect(h.gateway.status()).toMatchObject({ syncedVersion: 1, lastSyncError: null });
    expect(h.gateway.status().lastSyncAt).not.toBeNull();
  });

  it('applies a changed snapshot at the next sync (a new config)', async () => {
    expect((await chat(h.gateway.url, { 'x-portkey-config': 'new-config' })).status).toBe(400);
    const spec = defaultSpec(h);
    spec.configs!.push({ slug: 'new-config', config: { virtual_key: 'backup-vk' } });
    await h.sync.update(spec);
    await h.gateway.syncNow();
    expect(await chat(h.gateway.url, { 'x-portkey-config': 'new-config' })).toEqual({ status: 200, text: 'Hello from backup' });
  });

  it('refuses a payload it cannot understand and keeps the last good state', async () => {
    const before = h.gateway.status().syncedVersion;
    h.sync.serveRaw(JSON.stringify({ protocol: 99, everything: 'different' }));
    await h.gateway.syncNow();
    expect(h.gateway.status().lastSyncError).toContain('sync protocol 99');
    h.sync.serveRaw(JSON.stringify({ protocol: 1, organisation_id: 'o', version: 'x' }));
    await h.gateway.syncNow();
    expect(h.gateway.status().lastSyncError).toContain('does not validate');
    // Integrity: an unsigned body, or one signed with another key, is refused before it is parsed.
    h.sync.serveRaw(JSON.stringify(h.sync.snapshot()), null);
    await h.gateway.syncNow();
    expect(h.gateway.status().lastSyncError).toContain('signature');
    h.sync.serveRaw(JSON.stringify(h.sync.snapshot()), 'hmac-sha256=AAAA');
    await h.gateway.syncNow();
    expect(h.gateway.status().lastSyncError).toContain('signature');
    expect(h.gateway.status().syncedVersion).toBe(before);
    expect((await chat(h.gateway.url, { 'x-portkey-virtual-key': 'openai-vk' })).text).toBe('Hello from primary');
    await h.sync.update(defaultSpec(h));
    await h.gateway.syncNow();
    expect(h.gateway.status().lastSyncError).toBeNull();
  });

  it('reports a refused data-plane token', async () => {
    const gw = await h.startAnotherGateway({ dataPlaneToken: 'wrong-token' });
    expect(gw.status().lastSyncError).toContain('refused the data-plane token (401)');
    expect(h.logLines.join('\n')).not.toContain('wrong-token');
  });

  it('persists the still-encrypted snapshot in the cache, signed', async () => {
    await new Promise((r) => setTimeout(r, 2_100)); // persistence is debounced (2 s)
    const cached = await h.cache.get(snapshotCacheKey(h.sync.token));
    expect(cached).toBeDefined();
    const [format, header, body] = cached!.split('\n', 3);
    expect(format).toBe('tollgate.snapshot.v2');
    expect(JSON.parse(header!)).toMatchObject({ version: h.sync.snapshot().version, signature: expect.stringMatching(/^hmac-sha256=/) });
    expect(JSON.parse(body!)).toMatchObject({ kind: 'full', version: h.sync.snapshot().version });
    expect(cached).not.toContain('sk-openai-primary-secret');
  });
});

describe('serving without the control plane', () => {
  it('keeps serving when the control plane goes away, and a restart restores from the cache before any sync', async () => {
    const deadSync = await startFixtureSyncServer(h.keyring, {});
    const deadUrl = deadSync.url;
    await deadSync.close();

    await h.sync.close(); // the control plane is gone
    await h.gateway.syncNow();
    await h.gateway.syncNow(); // the first may fail on a pooled socket the server just closed
    expect(h.gateway.status().lastSyncError).toMatch(/could not reach the control plane.*ECONNREFUSED/);
    expect((await chat(h.gateway.url, { 'x-portkey-virtual-key': 'openai-vk' })).text).toBe('Hello from primary');

    // A fresh gateway that cannot reach any control plane serves what the cache holds.
    const restarted = await h.startAnotherGateway({ controlPlaneUrl: deadUrl });
    expect(restarted.status().lastSyncError).not.toBeNull();
    expect(restarted.status().syncedVersion).toBeGreaterThan(0);
    expect((await chat(restarted.url, { 'x-portkey-virtual-key': 'openai-vk' })).text).toBe('Hello from primary');
    const health = (await (await fetch(`${restarted.url}/v1/health`)).json()) as any;
    expect(health.status).toBe('ok');
  });
});
