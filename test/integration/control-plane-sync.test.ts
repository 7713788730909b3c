import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virtualKeyContext } from '../../runtime/core/keyring.js';
import { hashSecret } from '../../runtime/core/secrets.js';
import { SYNC_PATH, SYNC_PROTOCOL_HEADER, syncSnapshotSchema, type SyncSnapshot } from '../../runtime/core/sync-contract.js';
import { createOrganisation } from '../../runtime/control-plane/bootstrap.js';
import { captureOutput, startTestControlPlane, tempDir, type TestControlPlane } from '../support/cp-harness.js';

describe('control plane sync snapshot', () => {
  let t: TestControlPlane;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const secret = 'sk-sync-provider-secret-abcdef0123456789';

  beforeAll(async () => {
    tmp = await tempDir();
    t = await startTestControlPlane({ keyringFile: `${tmp.dir}/keyring.json` });
  });
  afterAll(async () => {
    await t?.cp.close();
    await tmp?.cleanup();
  });

  const pull = (token = t.cp.dataPlaneToken, query = '', headers: Record<string, string> = {}) =>
    fetch(`${t.cp.url}${SYNC_PATH}${query}`, { headers: { authorization: `Bearer ${token}`, ...headers } });

  async function snapshot(): Promise<SyncSnapshot> {
    const res = await pull();
    expect(res.status).toBe(200);
    return syncSnapshotSchema.parse(await res.json());
  }

  it('needs the data-plane token: an API key, a missing or a wrong token get 401', async () => {
    expect((await fetch(`${t.cp.url}${SYNC_PATH}`)).status).toBe(401);
    expect((await fetch(`${t.cp.url}${SYNC_PATH}`, { headers: { 'x-portkey-api-key': t.cp.adminApiKey } })).status).toBe(401);
    expect((await pull(t.cp.adminApiKey)).status).toBe(401);
    expect((await pull('tgdp-wrong')).status).toBe(401);
  });

  it('answers 409 when the gateway speaks another sync protocol', async () => {
    const res = await pull(undefined, '', { [SYNC_PROTOCOL_HEADER]: '999' });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { message: string }).message).toMatch(/protocol mismatch/);
    expect((await pull(undefined, '', { [SYNC_PROTOCOL_HEADER]: '1' })).status).toBe(200);
  });

  it('serves the org, 304 while unchanged, and a higher version after a change', async () => {
    const first = await snapshot();
    expect(first.organisation_id).toBe(t.cp.organisationId);
    expect(first.workspaces).toEqual([{ id: t.cp.defaultWorkspaceId, slug: 'default' }]);
    expect(first.api_keys.map((k) => k.key_hash)).toContain(hashSecret(t.cp.adminApiKey));

    const unchanged = await pull(undefined, `?since=${first.version}`);
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe('');
    expect((await pull(undefined, `?since=${first.version - 1}`)).status).toBe(200);

    const cfg = await t.sdk.configs.create({ name: 'synced', config: { provider: 'openai' } });
    const next = await snapshot();
    expect(next.version).toBeGreaterThan(first.version);
    expect(next.configs).toContainEqual(expect.objectContaining({ slug: cfg.slug, version: 1, config: { provider: 'openai' } }));
    expect((await pull(undefined, `?since=${first.version}`)).status).toBe(200);

    await t.sdk.configs.update({ slug: cfg.slug, config: { provider: 'anthropic' } });
    expect((await snapshot()).configs.find((c) => c.slug === cfg.slug)).toMatchObject({ version: 2, config: { provider: 'anthropic' } });
    expect((await pull(undefined, '?since=abc')).status).toBe(400);
  });

  it('carries virtual keys encrypted: they decrypt with the right context only, and the secret never shows', async () => {
    const { value: vk, output } = await captureOutput(async () => {
      const created = await t.sdk.virtualKeys.create({ name: 'Anthropic', provider: 'anthropic', key: secret });
      const responses = [
        JSON.stringify(created),
        JSON.stringify(await t.sdk.virtualKeys.retrieve({ slug: created.slug })),
        JSON.stringify(await t.sdk.virtualKeys.list()),
        await (await pull()).text(),
      ];
      for (const body of responses) expect(body).not.toContain(secret);
      return created;
    });
    expect(output).not.toContain(secret);

    const entry = (await snapshot()).virtual_keys.find((v) => v.slug === vk.slug)!;
    expect(entry).toMatchObject({ provider: 'anthropic', status: 'active', workspace_id: t.cp.defaultWorkspaceId });
    const context = virtualKeyContext(t.cp.organisationId, t.cp.defaultWorkspaceId, vk.slug!);
    expect((await t.keyring.decrypt(entry.encrypted_key, context)).toString('utf8')).toBe(secret);
    await expect(t.keyring.decrypt(entry.encrypted_key, virtualKeyContext('org-other', t.cp.defaultWorkspaceId, vk.slug!))).rejects.toThrow(/context/);
    await expect(t.keyring.decrypt(entry.encrypted_key, virtualKeyContext(t.cp.organisationId, 'ws-other', vk.slug!))).rejects.toThrow(/context/);

    const rows = await t.cp.db.query<Record<string, unknown>>('SELECT * FROM virtual_keys');
    expect(JSON.stringify(rows.rows)).not.toContain(secret);
  });

  it('drops deleted virtual keys and configs, and marks revoked API keys', async () => {
    const vk = await t.sdk.virtualKeys.create({ name: 'gone', provider: 'openai', key: 'sk-to-delete-000000000' });
    const revokedVk = await t.sdk.virtualKeys.create({ name: 'revoked', provider: 'openai', key: 'sk-to-revoke-000000000' });
    const cfg = await t.sdk.configs.create({ name: 'gone', config: { provider: 'openai' } });
    const key = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'service', scopes: ['completions.write'] });
    const deletedKey = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'user', scopes: ['completions.write'] });
    const before = await snapshot();
    expect(before.virtual_keys.map((v) => v.slug)).toEqual(expect.arrayContaining([vk.slug, revokedVk.slug]));
    expect(before.api_keys.find((k) => k.id === key.id)).toMatchObject({ status: 'active', key_hash: hashSecret(key.key!) });

    await t.sdk.virtualKeys.delete({ slug: vk.slug });
    await t.sdk.virtualKeys.update({ slug: revokedVk.slug, status: 'revoked' });
    await t.sdk.configs.delete({ slug: cfg.slug });
    await t.sdk.apiKeys.update({ id: key.id, status: 'revoked' });
    await t.sdk.apiKeys.delete({ id: deletedKey.id });

    const after = await snapshot();
    expect(after.virtual_keys.map((v) => v.slug)).not.toContain(vk.slug);
    expect(after.virtual_keys.find((v) => v.slug === revokedVk.slug)?.status).toBe('revoked');
    expect(after.configs.map((c) => c.slug)).not.toContain(cfg.slug);
    expect(after.api_keys.find((k) => k.id === key.id)?.status).toBe('revoked');
    expect(after.api_keys.map((k) => k.id)).not.toContain(deletedKey.id);
  });

  it('keeps organisations apart: another org sees none of this org and syncs only its own', async () => {
    const other = await createOrganisation(t.cp.db, 'Other org');
    const mine = await t.sdk.configs.create({ name: 'mine', config: { provider: 'openai' } });
    const theirs = t.sdkWith(other.adminApiKey);
    await expect(theirs.configs.retrieve({ slug: mine.slug })).rejects.toMatchObject({ status: 404 });
    await expect(theirs.configs.update({ slug: mine.slug, name: 'stolen' })).rejects.toMatchObject({ status: 404 });
    expect((await theirs.configs.list()).data).toEqual([]);
    expect((await theirs.virtualKeys.list()).data).toEqual([]);
    expect((await theirs.apiKeys.list({})).data?.map((k) => k.organisation_id)).toEqual([other.organisationId]);
    await expect(theirs.configs.create({ name: 'x', config: { provider: 'openai' }, workspace_id: t.cp.defaultWorkspaceId })).rejects.toMatchObject({ status: 400 });

    const res = await pull(other.dataPlaneToken);
    const snap = syncSnapshotSchema.parse(await res.json());
    expect(snap.organisation_id).toBe(other.organisationId);
    expect(snap.configs).toEqual([]);
    expect(snap.virtual_keys).toEqual([]);
    expect(snap.api_keys.map((k) => k.key_hash)).toEqual([hashSecret(other.adminApiKey)]);
  });
});
