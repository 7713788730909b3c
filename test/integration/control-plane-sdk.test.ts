import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

/** The unmodified portkey-ai SDK drives every admin resource against the local control plane. */
describe.each(engines)('control plane with the portkey-ai SDK on %s', (engine) => {
  let t: EngineControlPlane;

  beforeAll(async () => {
    t = await startOn(engine);
  });
  afterAll(async () => t?.stop());

  it('lists the default workspace', async () => {
    const list = await t.sdk.admin.workspaces.list({});
    expect(list.data).toHaveLength(1);
    expect(list.data?.[0]).toMatchObject({ id: t.cp.defaultWorkspaceId, slug: 'default', is_default: 1 });
    const one = await t.sdk.admin.workspaces.retrieve({ workspaceId: 'default' });
    expect(one.id).toBe(t.cp.defaultWorkspaceId);
  });

  it('creates, lists, retrieves, updates (new version) and deletes a config', async () => {
    const created = await t.sdk.configs.create({ name: 'Fallback', config: { strategy: { mode: 'fallback' }, targets: [{ provider: 'openai', api_key: 'a' }, { provider: 'anthropic', api_key: 'b' }] } });
    expect(created.slug).toMatch(/^pc-fallback-/);
    expect(created.version_id).toBeTruthy();

    const listed = await t.sdk.configs.list();
    expect(listed.data?.map((c) => c.slug)).toContain(created.slug);

    const got = await t.sdk.configs.retrieve({ slug: created.slug });
    expect(got).toMatchObject({ name: 'Fallback', workspace_id: t.cp.defaultWorkspaceId, version_id: created.version_id });
    expect(got.config).toMatchObject({ strategy: { mode: 'fallback' } });

    const updated = await t.sdk.configs.update({ slug: created.slug, name: 'Renamed', config: { provider: 'openai', api_key: 'c' } });
    expect(updated.version_id).not.toBe(created.version_id);
    const latest = await t.sdk.configs.retrieve({ slug: created.slug });
    expect(latest).toMatchObject({ name: 'Renamed', version_id: updated.version_id, config: { provider: 'openai', api_key: 'c' } });
    expect((latest as { version?: number }).version).toBe(2);
    const versions = await t.cp.db.query<{ version: number }>('SELECT version FROM config_versions ORDER BY version');
    expect(versions.rows.map((r) => r.version)).toEqual([1, 2]);

    await t.sdk.configs.delete({ slug: created.slug });
    await expect(t.sdk.configs.retrieve({ slug: created.slug })).rejects.toMatchObject({ status: 404 });
  });

  it('creates, lists, retrieves, updates and deletes a virtual key, showing only the mask', async () => {
    const secret = 'sk-live-vk-secret-0123456789abcdef';
    const created = await t.sdk.virtualKeys.create({ name: 'OpenAI prod', provider: 'openai', key: secret, note: 'n' });
    expect(created.slug).toMatch(/^openai-prod-/);
    expect(JSON.stringify(created)).not.toContain(secret);

    const got = await t.sdk.virtualKeys.retrieve({ slug: created.slug });
    expect(got).toMatchObject({ name: 'OpenAI prod', ai_provider_name: 'openai', status: 'active', note: 'n' });
    expect(got.masked_api_key).toMatch(/^sk-l\*+cdef$/);

    const listed = await t.sdk.virtualKeys.list();
    expect(listed.data?.map((v) => v.slug)).toContain(created.slug);
    expect(JSON.stringify(listed)).not.toContain(secret);

    await t.sdk.virtualKeys.update({ slug: created.slug, name: 'OpenAI staging', key: 'sk-rotated-key-9876543210zyxw' });
    const rotated = await t.sdk.virtualKeys.retrieve({ slug: created.slug });
    expect(rotated).toMatchObject({ name: 'OpenAI staging', masked_api_key: expect.stringMatching(/^sk-r\*+zyxw$/) });

    await t.sdk.virtualKeys.delete({ slug: created.slug });
    await expect(t.sdk.virtualKeys.retrieve({ slug: created.slug })).rejects.toMatchObject({ status: 404 });
  });

  it('creates an API key once, stores only its hash and scopes, and the key works', async () => {
    const created = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'service', name: 'ci', scopes: ['configs.list', 'completions.write'] });
    expect(created.key).toMatch(/^tg-/);
    const stored = await t.cp.db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [created.id]);
    expect(JSON.stringify(stored.rows)).not.toContain(created.key!);

    const got = await t.sdk.apiKeys.retrieve({ id: created.id });
    expect(got).toMatchObject({ name: 'ci', workspace_id: t.cp.defaultWorkspaceId, scopes: ['configs.list', 'completions.write'], status: 'active' });
    expect(got.key).not.toBe(created.key);

    const listed = await t.sdk.apiKeys.list({});
    expect(listed.data?.map((k) => k.id)).toContain(created.id);

    // The new key authenticates, within its scopes only.
    const ci = t.sdkWith(created.key!);
    await expect(ci.configs.list()).resolves.toMatchObject({ object: 'list' });
    await expect(ci.virtualKeys.list()).rejects.toMatchObject({ status: 403 });

    await t.sdk.apiKeys.update({ id: created.id, name: 'ci-2', scopes: ['configs.list'] });
    expect(await t.sdk.apiKeys.retrieve({ id: created.id })).toMatchObject({ name: 'ci-2', scopes: ['configs.list'] });

    await t.sdk.apiKeys.delete({ id: created.id });
    await expect(t.sdk.apiKeys.retrieve({ id: created.id })).rejects.toMatchObject({ status: 404 });
    await expect(ci.configs.list()).rejects.toMatchObject({ status: 401 });
  });

  it('creates and deletes a workspace, and scopes resources to it with workspace_id', async () => {
    const ws = await t.sdk.admin.workspaces.create({ name: 'Team A' });
    expect(ws.slug).toMatch(/^ws-team-a-/);
    const cfg = await t.sdk.configs.create({ name: 'in-a', config: { provider: 'openai' }, workspace_id: ws.id });
    expect((await t.sdk.configs.retrieve({ slug: cfg.slug! })).workspace_id).toBe(ws.id);
    expect((await t.sdk.configs.list({ workspace_id: ws.id })).data?.map((c) => c.slug)).toEqual([cfg.slug]);
    await expect(t.sdk.admin.workspaces.delete({ workspaceId: ws.id })).rejects.toMatchObject({ status: 409 });
    await t.sdk.configs.delete({ slug: cfg.slug });
    await t.sdk.admin.workspaces.delete({ workspaceId: ws.id });
    await expect(t.sdk.admin.workspaces.retrieve({ workspaceId: ws.id })).rejects.toMatchObject({ status: 404 });
  });

  it('updates a workspace, and deletes a prompt (the two admin methods the other suites do not call)', async () => {
    const ws = await t.sdk.admin.workspaces.create({ name: 'Before', description: 'old' });
    const updated = await t.sdk.admin.workspaces.update({ workspaceId: ws.id, name: 'After', description: 'new' });
    expect(updated).toMatchObject({ id: ws.id, name: 'After', description: 'new' });
    expect(await t.sdk.admin.workspaces.retrieve({ workspaceId: ws.id })).toMatchObject({ name: 'After', description: 'new' });

    const prompt = await t.sdk.prompts.create({ name: 'gone soon', collection_id: 'c', string: 'Hi {{x}}', parameters: {}, workspace_id: ws.id } as never);
    expect((await t.sdk.prompts.list({ workspace_id: ws.id } as never)).data?.map((p: { id?: string }) => p.id)).toContain(prompt.id);
    await t.sdk.prompts.delete(prompt.id as string);
    await expect(t.sdk.prompts.retrieve(prompt.id as string)).rejects.toMatchObject({ status: 404 });
    expect((await t.sdk.prompts.list({ workspace_id: ws.id } as never)).data ?? []).toEqual([]);
  });
});
