import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../runtime/core/secrets.js';
import {
  GATEWAY_VERSION_HEADER,
  SYNC_FEATURES_HEADER,
  SYNC_PATH,
  SYNC_PROTOCOL_HEADER,
  SYNC_SIGNATURE_HEADER,
  SYNC_WAIT_PATH,
  syncDeltaSchema,
  syncSnapshotSchema,
} from '../../runtime/core/sync-contract.js';
import { deriveSyncKey, verifyBody } from '../../runtime/core/sync-integrity.js';
import { mutateOrg } from '../../runtime/control-plane/db/revision.js';
import { pruneChangeLog } from '../../runtime/control-plane/sync/change-log.js';
import { mergeDelta } from '../../runtime/gateway/sync/sync-client.js';
import { startTestControlPlane, tempDir, type TestControlPlane } from '../support/cp-harness.js';

describe('sync protocol 2: deltas, tombstones, integrity, versions, long-poll', () => {
  let t: TestControlPlane;
  let tmp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    tmp = await tempDir();
    t = await startTestControlPlane({ keyringFile: `${tmp.dir}/keyring.json` });
  });
  afterAll(async () => {
    await t?.cp.close();
    await tmp?.cleanup();
  });

  const key = () => deriveSyncKey(hashSecret(t.cp.dataPlaneToken), 'payload');
  async function pull(since: number, headers: Record<string, string> = {}) {
    const res = await fetch(`${t.cp.url}${SYNC_PATH}?since=${since}`, {
      headers: { authorization: `Bearer ${t.cp.dataPlaneToken}`, [SYNC_PROTOCOL_HEADER]: '2', [GATEWAY_VERSION_HEADER]: '0.1.0', ...headers },
    });
    const body = await res.text();
    if (res.status === 200) expect(verifyBody(key(), body, res.headers.get(SYNC_SIGNATURE_HEADER))).toBe(true);
    return { status: res.status, body: body ? JSON.parse(body) : undefined, headers: res.headers };
  }

  it('first sync is a full snapshot; then 304; then only what changed, with tombstones', async () => {
    const first = await pull(0);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ protocol: 2, kind: 'full' });
    let base = syncSnapshotSchema.parse(first.body);
    expect((await pull(base.version)).status).toBe(304);

    const vk = await t.sdk.virtualKeys.create({ name: 'delta-vk', provider: 'openai', key: 'sk-delta-0000000000000' });
    const cfg = await t.sdk.configs.create({ name: 'delta-cfg', config: { virtual_key: vk.slug } });
    const key1 = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'service', scopes: ['completions.write'] });

    const d1 = await pull(base.version);
    expect(d1.status).toBe(200);
    const delta = syncDeltaSchema.parse(d1.body);
    expect(delta.base_version).toBe(base.version);
    expect(delta.upserts.virtual_keys!.map((v) => v.slug)).toEqual([vk.slug]);
    expect(delta.upserts.configs!.map((c) => c.slug)).toEqual([cfg.slug]);
    expect(delta.upserts.api_keys!.map((k) => k.id)).toEqual([key1.id]);
    expect(delta.upserts.workspaces).toBeUndefined();
    expect(JSON.stringify(delta)).not.toContain('sk-delta-0000000000000');
    base = mergeDelta(base, delta);

    // Update, revoke, delete: the delta carries the new state and tombstones.
    await t.sdk.configs.update({ slug: cfg.slug, config: { provider: 'anthropic' } });
    await t.sdk.apiKeys.update({ id: key1.id, status: 'revoked' });
    await t.sdk.virtualKeys.delete({ slug: vk.slug });
    const d2 = syncDeltaSchema.parse((await pull(base.version)).body);
    expect(d2.upserts.configs).toEqual([expect.objectContaining({ slug: cfg.slug, version: 2, config: { provider: 'anthropic' } })]);
    expect(d2.upserts.api_keys).toEqual([expect.objectContaining({ id: key1.id, status: 'revoked' })]);
    expect(d2.deletes.virtual_keys).toEqual([vk.id]);
    base = mergeDelta(base, d2);

    await t.sdk.configs.delete({ slug: cfg.slug });
    await t.sdk.apiKeys.delete({ id: key1.id });
    const d3 = syncDeltaSchema.parse((await pull(base.version)).body);
    expect(d3.deletes).toMatchObject({ configs: [cfg.id], api_keys: [key1.id] });
    base = mergeDelta(base, d3);

    // The merged result equals a fresh full snapshot.
    const full = syncSnapshotSchema.parse((await pull(0)).body);
    const norm = (s: typeof full) => ({
      version: s.version,
      api_keys: [...s.api_keys].sort((a, b) => a.id.localeCompare(b.id)),
      configs: [...s.configs].sort((a, b) => a.id.localeCompare(b.id)),
      virtual_keys: [...s.virtual_keys].sort((a, b) => a.id.localeCompare(b.id)),
      workspaces: [...s.workspaces].sort((a, b) => a.id.localeCompare(b.id)),
    });
    expect(norm(base)).toEqual(norm(full));
  });

  it('falls back to a full snapshot when the gateway is behind the retained window, ahead, or the change is untracked', async () => {
    const start = syncSnapshotSchema.parse((await pull(0)).body).version;
    await t.sdk.configs.create({ name: 'window', config: { provider: 'openai' } });
    await t.sdk.configs.create({ name: 'window-2', config: { provider: 'openai' } });
    expect((await pull(start)).headers.get('x-tollgate-sync-kind')).toBe('delta');

    await t.cp.db.transaction((tx) => pruneChangeLog(tx, t.cp.organisationId, { maxRevisions: 1 }));
    // The delta just served stays valid while the revision is unchanged (gateways share it); after
    // the next change the log no longer reaches back to `start`.
    await t.sdk.configs.create({ name: 'window-3', config: { provider: 'openai' } });
    const behind = await pull(start);
    expect(behind.body).toMatchObject({ kind: 'full' });
    expect(behind.headers.get('x-tollgate-full-reason')).toMatch(/retained/);

    // A mutation that touched no tracked table (e.g. a synced table without a change-log trigger yet).
    const v = behind.body.version;
    await mutateOrg(t.cp.db, t.cp.organisationId, async () => undefined);
    const untracked = await pull(v);
    expect(untracked.body).toMatchObject({ kind: 'full', version: v + 1 });
    expect(untracked.headers.get('x-tollgate-full-reason')).toMatch(/untracked/);

    const ahead = await pull(behind.body.version + 100);
    expect(ahead.body).toMatchObject({ kind: 'full' });
    expect(ahead.headers.get('x-tollgate-full-reason')).toMatch(/ahead/);
  });

  it('serves protocol 1 (full, signed) to old gateways and refuses incompatible ones clearly', async () => {
    const v1 = await fetch(`${t.cp.url}${SYNC_PATH}?since=1`, { headers: { authorization: `Bearer ${t.cp.dataPlaneToken}`, [SYNC_PROTOCOL_HEADER]: '1' } });
    expect(v1.status).toBe(200);
    const body = (await v1.json()) as { protocol: number; kind?: string };
    expect(body.protocol).toBe(1);
    expect(body.kind).toBeUndefined();

    const newer = await pull(0, { [SYNC_PROTOCOL_HEADER]: '3' });
    expect(newer.status).toBe(409);
    expect(newer.body.message).toMatch(/gateway speaks 3.*upgrade the control plane/);
    const older = await pull(0, { [SYNC_PROTOCOL_HEADER]: '0' });
    expect(older.status).toBe(426);
    expect(older.body.message).toMatch(/upgrade the gateway/);
    const oldGateway = await pull(0, { [GATEWAY_VERSION_HEADER]: '0.0.9' });
    expect(oldGateway.status).toBe(426);
    expect(oldGateway.body.message).toMatch(/gateway 0\.0\.9 is older than.*upgrade the gateway/);
  });

  it('long-poll: answers at once when behind, wakes on a change, 304 at the timeout', async () => {
    const headers = { authorization: `Bearer ${t.cp.dataPlaneToken}`, [SYNC_PROTOCOL_HEADER]: '2' };
    const version = syncSnapshotSchema.parse((await pull(0)).body).version;
    const behind = await fetch(`${t.cp.url}${SYNC_WAIT_PATH}?since=${version - 1}`, { headers });
    expect(behind.status).toBe(200);
    expect(await behind.json()).toEqual({ version });

    const idle = Date.now();
    const timedOut = await fetch(`${t.cp.url}${SYNC_WAIT_PATH}?since=${version}&timeout=0.5`, { headers });
    expect(timedOut.status).toBe(304);
    expect(Date.now() - idle).toBeGreaterThanOrEqual(450);

    const started = Date.now();
    const waiting = fetch(`${t.cp.url}${SYNC_WAIT_PATH}?since=${version}&timeout=20`, { headers });
    await new Promise((r) => setTimeout(r, 200));
    await t.sdk.configs.create({ name: 'wake', config: { provider: 'openai' } });
    const woke = await waiting;
    const waited = Date.now() - started;
    expect(woke.status).toBe(200);
    expect(((await woke.json()) as { version: number }).version).toBeGreaterThan(version);
    expect(waited).toBeLessThan(2_000);
    expect((await fetch(`${t.cp.url}${SYNC_WAIT_PATH}?since=0`)).status).toBe(401);
  });

  it('long-poll with wait-delta: a change is answered with the signed delta itself, the same one a pull gets', async () => {
    const headers = { authorization: `Bearer ${t.cp.dataPlaneToken}`, [SYNC_PROTOCOL_HEADER]: '2', [SYNC_FEATURES_HEADER]: 'keyed-pricing,wait-delta' };
    const base = syncSnapshotSchema.parse((await pull(0)).body);
    const waiting = fetch(`${t.cp.url}${SYNC_WAIT_PATH}?since=${base.version}&timeout=20`, { headers });
    await new Promise((r) => setTimeout(r, 200));
    const cfg = await t.sdk.configs.create({ name: 'pushed', config: { provider: 'openai' } });
    const woke = await waiting;
    expect(woke.status).toBe(200);
    expect(woke.headers.get('x-tollgate-sync-kind')).toBe('delta');
    const raw = await woke.text();
    expect(verifyBody(key(), raw, woke.headers.get(SYNC_SIGNATURE_HEADER))).toBe(true);
    const pushed = syncDeltaSchema.parse(JSON.parse(raw));
    expect(pushed.base_version).toBe(base.version);
    expect(pushed.upserts.configs!.map((c) => c.slug)).toEqual([cfg.slug]);
    const pulled = syncDeltaSchema.parse((await pull(base.version, { [SYNC_FEATURES_HEADER]: 'keyed-pricing,wait-delta' })).body);
    expect({ ...pushed, generated_at: '' }).toEqual({ ...pulled, generated_at: '' });
    // Without the feature, the channel answers only the version (older gateways).
    const old = await fetch(`${t.cp.url}${SYNC_WAIT_PATH}?since=${base.version}`, { headers: { authorization: headers.authorization, [SYNC_PROTOCOL_HEADER]: '2' } });
    expect(await old.json()).toEqual({ version: pushed.version });
  });
});
