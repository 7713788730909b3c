import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { userWithSession } from '../support/cp-users.js';

const PLATFORM_KEY = 'tgpa-test-platform-admin-key-0123456789';

describe.each(engines)('organisations, users, invites, members, API keys on %s', (engine) => {
  let t: EngineControlPlane;
  const previous = process.env.TOLLGATE_PLATFORM_ADMIN_KEY;
  beforeAll(async () => {
    process.env.TOLLGATE_PLATFORM_ADMIN_KEY = PLATFORM_KEY;
    t = await startOn(engine);
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.TOLLGATE_PLATFORM_ADMIN_KEY;
    else process.env.TOLLGATE_PLATFORM_ADMIN_KEY = previous;
    await t?.stop();
  });
  const platform = (path: string, init: RequestInit & { json?: unknown } = {}) =>
    t.api(path, { ...init, headers: { authorization: `Bearer ${PLATFORM_KEY}`, 'x-portkey-api-key': '', ...(init.headers as object) } });

  it('the platform admin onboards an organisation (and only the platform admin can)', async () => {
    expect((await t.api('/v1/platform/organisations', { method: 'POST', json: { name: 'x' } })).status).toBe(401);
    expect((await platform('/v1/platform/organisations', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const bad = await platform('/v1/platform/organisations', { method: 'POST', json: { name: 'Acme', kms_key_arn: 'alias/mine' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^kms_key_arn:/);

    const res = await platform('/v1/platform/organisations', {
      method: 'POST',
      json: { name: 'Acme', owner: { email: 'Owner@Acme.example', password: 'correct horse battery' } },
    });
    expect(res.status).toBe(201);
    const org = (await res.json()) as { id: string; admin_api_key: string; data_plane_token: string; owner: { email: string; role: string } };
    expect(org.owner).toMatchObject({ email: 'owner@acme.example', role: 'owner' });
    // The new org's admin key works and sees only its own org.
    const acme = t.sdkWith(org.admin_api_key);
    expect((await acme.admin.users.list({})).data?.map((u) => u.email)).toEqual(['owner@acme.example']);
    expect((await acme.admin.workspaces.list({})).data).toHaveLength(1);

    const listed = (await (await platform('/v1/platform/organisations')).json()) as { data: { id: string }[]; total: number };
    expect(listed.data.map((o) => o.id)).toEqual(expect.arrayContaining([t.cp.organisationId, org.id]));
    const one = await platform(`/v1/platform/organisations/${org.id}`);
    expect(one.headers.get('etag')).toBe('"1"');
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect((await platform(`/v1/platform/organisations/${org.id}`, { method: 'PUT', json: { kms_key_arn: arn, version: 1 } })).status).toBe(200);
    expect((await platform(`/v1/platform/organisations/${org.id}`, { method: 'PUT', json: { name: 'y', version: 1 } })).status).toBe(409);
    expect((await platform('/v1/platform/organisations/org-missing')).status).toBe(404);
  });

  it('invites through the SDK: create, list, retrieve, resend, delete', async () => {
    const ws = await t.sdk.admin.workspaces.create({ name: 'Invitees' });
    const created = await t.sdk.admin.users.invites.create({ email: 'new@example.com', role: 'member', workspaces: [{ id: ws.id!, role: 'manager' }] });
    expect(created.invite_link).toMatch(/\/invite\?token=tginv-/);
    const got = await t.sdk.admin.users.invites.retrieve({ inviteId: created.id });
    expect(got).toMatchObject({ email: 'new@example.com', role: 'member', status: 'pending', workspaces: [{ id: ws.id, role: 'manager' }] });
    expect((await t.sdk.admin.users.invites.list({ status: 'pending' })).data?.map((i) => i.id)).toContain(created.id);
    const resent = await t.sdk.admin.users.invites.resend({ inviteId: created.id });
    expect(resent.invite_link).not.toBe(created.invite_link);
    await t.sdk.admin.users.invites.delete({ inviteId: created.id });
    await expect(t.sdk.admin.users.invites.retrieve({ inviteId: created.id })).rejects.toMatchObject({ status: 404 });
    const bad = await t.api('/v1/admin/users/invites', { method: 'POST', json: { email: 'x@example.com', workspaces: [{ id: 'nope' }] } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^workspaces\.0\.id:/);
  });

  it('users and workspace members through the SDK, with pagination', async () => {
    const ws = await t.sdk.admin.workspaces.create({ name: 'Members' });
    const u1 = await userWithSession(t, 'member');
    const u2 = await userWithSession(t, 'admin');
    await t.sdk.admin.workspaces.users.create({ workspaceId: ws.id, users: [{ id: u1.id, role: 'member' }] });
    expect(await t.sdk.admin.workspaces.users.retrieve({ workspaceId: ws.id, userId: u1.id })).toMatchObject({ role: 'member', org_role: 'member' });
    await t.sdk.admin.workspaces.users.update({ workspaceId: ws.id, userId: u1.id, role: 'admin' });
    expect((await t.sdk.admin.workspaces.users.list({ workspaceId: ws.id })).data?.map((m) => [m.role])).toEqual([['admin']]);
    await t.sdk.admin.workspaces.users.delete({ workspaceId: ws.id, userId: u1.id });
    expect((await t.sdk.admin.workspaces.users.list({ workspaceId: ws.id })).total).toBe(0);

    const user = await t.sdk.admin.users.retrieve({ userId: u1.id });
    expect(user).toMatchObject({ id: u1.id, role: 'member', object: 'user' });
    await t.sdk.admin.users.update({ userId: u1.id, role: 'admin' });
    expect((await t.sdk.admin.users.list({ role: 'admin' })).data?.map((u) => u.id)).toEqual(expect.arrayContaining([u1.id, u2.id]));
    const page = (await (await t.api('/v1/admin/users?page_size=1&current_page=1')).json()) as { data: unknown[]; current_page: number; page_size: number; total: number };
    expect(page).toMatchObject({ current_page: 1, page_size: 1 });
    expect(page.data).toHaveLength(1);
    expect(page.total).toBeGreaterThanOrEqual(2);
    expect((await t.sdk.admin.users.list({ pageSize: 1, currentPage: 0 })).data).toHaveLength(1);
    await t.sdk.admin.users.delete({ userId: u1.id });
    await expect(t.sdk.admin.users.retrieve({ userId: u1.id })).rejects.toMatchObject({ status: 404 });
  });

  it('only an owner grants the owner role, and the last owner stays', async () => {
    const owner = await userWithSession(t, 'owner');
    const admin = await userWithSession(t, 'admin');
    const member = await userWithSession(t, 'member');
    expect((await t.api(`/v1/admin/users/${member.id}`, { method: 'PUT', json: { role: 'owner' }, headers: admin.headers })).status).toBe(403);
    expect((await t.api(`/v1/admin/users/${owner.id}`, { method: 'DELETE', headers: admin.headers })).status).toBe(403);
    expect((await t.api(`/v1/admin/users/${member.id}`, { method: 'PUT', json: { role: 'owner' }, headers: owner.headers })).status).toBe(200);
    expect((await t.api(`/v1/admin/users/${member.id}`, { method: 'PUT', json: { role: 'admin' }, headers: owner.headers })).status).toBe(200);
    const last = await t.api(`/v1/admin/users/${owner.id}`, { method: 'PUT', json: { role: 'admin' }, headers: owner.headers });
    expect(last.status).toBe(409);
  });

  it('API keys: known scope names only, rotation, revocation, expiry and defaults', async () => {
    const bad = await t.api('/v1/api-keys/organisation/service', { method: 'POST', json: { scopes: ['configs.read', 'everything.please'] } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^scopes: unknown scope\(s\): everything\.please/);
    const cfg = await t.sdk.configs.create({ name: 'default', config: { provider: 'openai' } });
    const created = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'user', scopes: ['configs.list'], defaults: { config_id: cfg.slug, metadata: { team: 'x' } } });
    expect(await t.sdk.apiKeys.retrieve({ id: created.id })).toMatchObject({ defaults: { config_id: cfg.slug, metadata: { team: 'x' } }, type: 'workspace-user' });
    const rotated = (await (await t.api(`/v1/api-keys/${created.id}/rotate`, { method: 'POST' })).json()) as { key: string; id: string };
    expect(rotated.id).toBe(created.id);
    expect(rotated.key).not.toBe(created.key);
    expect((await t.api('/v1/configs', { headers: { 'x-portkey-api-key': created.key! } })).status).toBe(401);
    expect((await t.api('/v1/configs', { headers: { 'x-portkey-api-key': rotated.key } })).status).toBe(200);
    await t.sdk.apiKeys.update({ id: created.id, status: 'revoked' });
    expect((await t.api('/v1/configs', { headers: { 'x-portkey-api-key': rotated.key } })).status).toBe(401);
    expect((await t.api(`/v1/api-keys/${created.id}/rotate`, { method: 'POST' })).status).toBe(409);
    expect((await t.api('/v1/api-keys/ak-missing/rotate', { method: 'POST' })).status).toBe(404);
  });
});
