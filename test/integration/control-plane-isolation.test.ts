import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrganisation, type OrganisationCredentials } from '../../runtime/control-plane/bootstrap.js';
import { withTenant } from '../../runtime/control-plane/db/tenant.js';
import { insertUser } from '../../runtime/control-plane/db/users-repo.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { fillPath, tenantRoutes } from '../support/cp-isolation.js';

/** Every table with an organisation column, read from the catalogue: a new tenant table is checked without editing this test. */
let TENANT_TABLES: string[] = [];
async function tenantTables(t: EngineControlPlane): Promise<string[]> {
  const { rows } = await t.cp.db.query<{ table_name: string }>(
    `SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'organisation_id' ORDER BY 1`,
  );
  return rows.map((r) => r.table_name);
}

/** Org A's objects, created through the API so every table holds some of them. */
async function seed(t: EngineControlPlane) {
  const ws = (await (await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'A team' } })).json()) as { id: string };
  const cfg = await t.sdk.configs.create({ name: 'a-config', config: { provider: 'openai' }, workspace_id: ws.id });
  const vk = await t.sdk.virtualKeys.create({ name: 'a-vk', provider: 'openai', key: 'sk-org-a-secret-000000000', workspace_id: ws.id });
  const key = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'service', scopes: ['configs.read'], workspace_id: ws.id });
  const user = await withTenant(t.cp.db, t.cp.organisationId, (db) => insertUser(db, t.cp.organisationId, { email: 'a-user@example.com', role: 'member' }));
  await t.sdk.admin.workspaces.users.create({ workspaceId: ws.id, users: [{ id: user.id, role: 'member' }] });
  const invite = await t.sdk.admin.users.invites.create({ email: 'a-invitee@example.com', role: 'member' });
  const partial = await t.sdk.prompts.partials.create({ name: 'a-partial', string: 'A says {{x}}', workspace_id: ws.id });
  const prompt = await t.sdk.prompts.create({ name: 'a-prompt', collection_id: 'c', string: 'Hello {{x}}', parameters: {}, workspace_id: ws.id } as never);
  const guardrail = (await (await t.api('/v1/guardrails', { method: 'POST', json: { name: 'a-guard', checks: [{ id: 'default.contains' }], workspace_id: ws.id } })).json()) as { id: string };
  await t.api('/v1/pricing/acme/a-model', { method: 'PUT', json: { input: 1, output: 2 } });
  return {
    guardrail: guardrail.id,
    prompt: prompt.slug as string,
    partial: partial.slug as string, ws: ws.id, cfg: cfg.slug!, vk: vk.slug!, key: key.id!, user: user.id, invite: invite.id! };
}

/** Everything org A holds, read as the superuser (no RLS), to prove nothing changed. */
async function dump(t: EngineControlPlane, orgId: string): Promise<string> {
  const out: Record<string, unknown> = {};
  for (const table of [...TENANT_TABLES, 'organisations']) {
    const col = table === 'organisations' ? 'id' : 'organisation_id';
    out[table] = (await t.cp.db.query(`SELECT * FROM ${table} WHERE ${col} = $1 ORDER BY 1`, [orgId])).rows;
  }
  return JSON.stringify(out);
}

describe.each(engines)('tenant isolation on %s', (engine) => {
  let t: EngineControlPlane;
  let b: OrganisationCredentials;
  let a: Awaited<ReturnType<typeof seed>>;

  beforeAll(async () => {
    t = await startOn(engine);
    TENANT_TABLES = await tenantTables(t);
    a = await seed(t);
    b = await createOrganisation(t.cp.db, 'Org B');
  });
  afterAll(async () => t?.stop());

  it('the database itself hides and protects other orgs rows (RLS as the app role)', async () => {
    expect(TENANT_TABLES).toEqual(expect.arrayContaining(['workspaces', 'users', 'sessions', 'prompts', 'audit_logs', 'request_metrics']));
    await withTenant(t.cp.db, b.organisationId, async (db) => {
      for (const table of TENANT_TABLES) {
        const { rows } = await db.query<{ organisation_id: string }>(`SELECT organisation_id FROM ${table}`);
        expect(rows.every((r) => r.organisation_id === b.organisationId), table).toBe(true);
      }
      const orgs = await db.query<{ id: string }>('SELECT id FROM organisations');
      expect(orgs.rows.map((r) => r.id)).toEqual([b.organisationId]);
      // A WHERE naming org A finds nothing, and writes to its rows touch nothing.
      expect((await db.query('SELECT * FROM configs WHERE organisation_id = $1', [t.cp.organisationId])).rows).toEqual([]);
      expect((await db.query('UPDATE configs SET name = $1 WHERE organisation_id = $2 RETURNING id', ['x', t.cp.organisationId])).rows).toEqual([]);
      expect((await db.query('DELETE FROM api_keys WHERE organisation_id = $1 RETURNING id', [t.cp.organisationId])).rows).toEqual([]);
    });
    // Inserting a row for another org violates the policy.
    await expect(
      withTenant(t.cp.db, b.organisationId, (db) =>
        db.query(`INSERT INTO workspaces (id, organisation_id, slug, name) VALUES ('ws-evil', $1, 'evil', 'evil')`, [t.cp.organisationId]),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('org B cannot read or change anything of org A on any admin route', async () => {
    const before = await dump(t, t.cp.organisationId);
    const values = {
      'configs/slug': a.cfg,
      'virtual-keys/slug': a.vk,
      workspaceId: a.ws,
      id: a.key,
      userId: a.user,
      inviteId: a.invite,
      promptId: a.prompt,
      partialId: a.partial,
      versionId: '1',
      guardrailId: a.guardrail,
      provider: 'acme',
      model: 'a-model',
      type: 'workspace',
      subType: 'service',
      // Other teams' routes (logs, feedback, analytics): ids that exist nowhere still must not leak or 5xx.
      metadataKey: 'team',
      groupBy: 'models',
      'logs/id': 'log-missing',
      'feedback/id': 'fb-missing',
    };
    const headers = { 'x-portkey-api-key': b.adminApiKey };
    for (const route of tenantRoutes()) {
      const { method, path } = fillPath(route.routeKey, values);
      const body = method === 'GET' || method === 'DELETE' ? undefined : { name: 'stolen', workspace_id: a.ws, scopes: [], config: { provider: 'openai' }, provider: 'openai', key: 'sk-x' };
      const query = method === 'GET' && !/\{/.test(route.routeKey) ? `?workspace_id=${a.ws}` : '';
      const res = await t.api(path + query, { method, headers, json: body });
      const text = await res.text();
      // Lists may ignore the filter (200) but never show org A's objects; everything else is refused.
      // Creating in B's own org is fine when the route has no workspace to point at A with.
      // A GET that names none of A's objects (a list, an analytics query) may answer 200, without A's data.
      const namesA = Object.values(a).some((id) => path.includes(id));
      // B's own org-level objects (workspaces, its price table) are B's to create and change.
      const ownOrgLevel = route.routeKey === 'POST /v1/admin/workspaces' || route.routeKey.includes('/v1/pricing/');
      const allowed = (method === 'GET' && !namesA) || ownOrgLevel ? [200, 400, 403, 404] : [400, 403, 404];
      expect(allowed, `${route.routeKey} → ${res.status} ${text}`).toContain(res.status);
      // A 404 may echo the id the caller sent; nothing else of A's may show.
      const sent = path + query + JSON.stringify(body ?? {});
      for (const id of Object.values(a)) if (!sent.includes(id)) expect(text, route.routeKey).not.toContain(id);
      if (method === 'GET' && !/\{/.test(route.routeKey)) {
        const plain = await (await t.api(path, { headers })).text();
        for (const id of Object.values(a)) expect(plain, `${route.routeKey} list`).not.toContain(id);
      }
    }
    expect(await dump(t, t.cp.organisationId)).toBe(before);
    // Nor does anything of B's point into A's workspace (foreign keys are checked without RLS).
    for (const table of ['api_keys', 'virtual_keys', 'configs', 'prompts', 'prompt_partials']) {
      const { rows } = await t.cp.db.query(`SELECT id FROM ${table} WHERE organisation_id = $1 AND workspace_id = $2`, [b.organisationId, a.ws]);
      expect(rows, table).toEqual([]);
    }
  });

  it('a workspace key of one workspace cannot see another workspace of its own org', async () => {
    const other = await t.sdk.apiKeys.create({
      type: 'workspace',
      'sub-type': 'service',
      scopes: ['configs.read', 'configs.list', 'configs.update', 'virtual_keys.read', 'workspaces.read', 'api_keys.read'],
    });
    const sdk = t.sdkWith(other.key!);
    await expect(sdk.configs.retrieve({ slug: a.cfg })).rejects.toMatchObject({ status: 404 });
    await expect(sdk.configs.update({ slug: a.cfg, name: 'x' })).rejects.toMatchObject({ status: 404 });
    await expect(sdk.virtualKeys.retrieve({ slug: a.vk })).rejects.toMatchObject({ status: 404 });
    await expect(sdk.admin.workspaces.retrieve({ workspaceId: a.ws })).rejects.toMatchObject({ status: 404 });
    expect((await sdk.configs.list()).data?.map((c) => c.slug)).not.toContain(a.cfg);
  });
});
