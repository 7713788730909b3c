import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { userWithSession } from '../support/cp-users.js';

interface AuditList {
  data: { action: string; actor: { type: string; id: string }; resource: { type: string; id: string }; source_ip: string; user_agent: string; request: { method: string; status: number }; workspace_id: string | null }[];
  total: number;
  current_page: number;
  page_size: number;
}

describe.each(engines)('audit log on %s', (engine) => {
  let t: EngineControlPlane;
  beforeAll(async () => {
    t = await startOn(engine);
  });
  afterAll(async () => t?.stop());
  const audit = async (query = '', headers: Record<string, string> = {}) => (await (await t.api(`/v1/audit-logs${query}`, { headers })).json()) as AuditList;

  it('records every mutation with who, what, when and from where; reads are not recorded', async () => {
    const cfg = await t.sdk.configs.create({ name: 'audited', config: { provider: 'openai' } });
    await t.api(`/v1/configs/${cfg.slug}`, { method: 'PUT', json: { name: 'audited-2' }, headers: { 'user-agent': 'audit-test/1.0' } });
    await t.sdk.configs.retrieve({ slug: cfg.slug });
    await t.sdk.configs.delete({ slug: cfg.slug });
    // A refused mutation changes nothing and records nothing.
    expect((await t.api('/v1/configs', { method: 'POST', json: { name: '' } })).status).toBe(400);

    const log = await audit(`?resource_id=${cfg.slug}`);
    expect(log.data.map((e) => e.action)).toEqual(['configs.delete', 'configs.update', 'configs.create']);
    const update = log.data[1];
    expect(update).toMatchObject({ actor: { type: 'api_key' }, resource: { type: 'configs', id: cfg.slug }, request: { method: 'PUT', status: 200 }, user_agent: 'audit-test/1.0' });
    expect(update.source_ip).toMatch(/127\.0\.0\.1/);
    expect(update.actor.id).toMatch(/^ak-/);
  });

  it('filters and paginates Portkey-style', async () => {
    for (let i = 0; i < 3; i++) await t.sdk.virtualKeys.create({ name: `vk${i}`, provider: 'openai', key: 'sk-audit-00000000000' });
    const page0 = await audit('?action=virtual_keys.create&page_size=2&current_page=0');
    const page1 = await audit('?action=virtual_keys.create&page_size=2&current_page=1');
    expect(page0).toMatchObject({ total: 3, current_page: 0, page_size: 2 });
    expect(page0.data).toHaveLength(2);
    expect(page1.data).toHaveLength(1);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await audit(`?start_time=${future}`)).total).toBe(0);
    expect((await t.api('/v1/audit-logs?start_time=yesterday')).status).toBe(400);
    expect((await t.api('/v1/audit-logs?page_size=0')).status).toBe(400);
  });

  it('records users acting through a session; members without the role get 403; the log cannot be rewritten', async () => {
    const admin = await userWithSession(t, 'admin');
    const created = await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'By admin' }, headers: admin.headers });
    expect(created.status).toBe(200);
    const entry = (await audit('?action=workspaces.create')).data[0];
    expect(entry.actor).toEqual({ type: 'user', id: admin.id });
    const member = await userWithSession(t, 'member');
    expect((await t.api('/v1/audit-logs', { headers: member.headers })).status).toBe(403);
    // Append-only for the app role.
    await expect(
      t.cp.db.transaction(async (tx) => {
        await tx.query('SET LOCAL ROLE tollgate_app');
        await tx.query("SELECT set_config('tollgate.org_id', $1, true)", [t.cp.organisationId]);
        await tx.query('DELETE FROM audit_logs');
      }),
    ).rejects.toThrow(/permission denied/);
  });
});
