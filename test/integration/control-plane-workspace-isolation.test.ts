import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES } from '../../runtime/control-plane/scopes.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { anyBody, callOrder, objectsIn } from '../support/cp-fixtures.js';
import { fillPath, tenantRoutes } from '../support/cp-isolation.js';
import { userWithSession } from '../support/cp-users.js';

/** Fixture values that are not workspace A's: the org itself, its (org-wide) price table, fixed words. */
const NOT_A = new Set(['organisationId', 'provider', 'model', 'type', 'subType', 'versionId', 'metadataKey', 'groupBy', 'logs/id', 'feedback/id']);

/** Every row of the org outside workspace B (and its caller), read as the superuser (no RLS). */
async function outsideB(t: EngineControlPlane, wsB: string): Promise<string> {
  const out: Record<string, unknown> = {};
  const tables = (await t.cp.db.query<{ table_name: string }>(
    `SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'organisation_id' AND table_name <> 'audit_logs' ORDER BY 1`,
  )).rows.map((r) => r.table_name);
  for (const table of tables) {
    const cols = (await t.cp.db.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`, [table])).rows.map((r) => r.column_name);
    const notB = cols.includes('workspace_id') ? `AND workspace_id IS DISTINCT FROM $2` : table === 'workspaces' ? 'AND id <> $2' : 'AND $2::text IS NOT NULL';
    // Usage stamps move on every authenticated call; they are not the caller's doing.
    const { rows } = await t.cp.db.query<Record<string, unknown>>(`SELECT * FROM ${table} WHERE organisation_id = $1 ${notB} ORDER BY 1`, [t.cp.organisationId, wsB]);
    out[table] = rows.map(({ last_used_at: _u, updated_at: _a, ...r }) => r);
  }
  return JSON.stringify(out);
}

/**
 * Workspace A against workspace B of the same organisation, on every tenant route of the route table:
 * B's callers (a workspace API key holding every scope, and a workspace admin signed in) aim each
 * route at A's objects. Nothing of A's may be read or changed; lists show none of A's ids.
 */
describe.each(engines)('workspace isolation on %s', (engine) => {
  let t: EngineControlPlane;
  let wsA: string;
  let wsB: string;
  let a: Record<string, string>;
  beforeAll(async () => {
    t = await startOn(engine);
    wsA = ((await (await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'Team A' } })).json()) as { id: string }).id;
    wsB = ((await (await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'Team B' } })).json()) as { id: string }).id;
    a = await objectsIn(t, wsA);
    await objectsIn(t, wsB);
  });
  afterAll(async () => t?.stop());

  const callers = {
    'workspace API key with every scope': async () => {
      const key = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'service', scopes: [...ALL_SCOPES], workspace_id: wsB });
      return { 'x-portkey-api-key': key.key! };
    },
    'signed-in workspace admin': async () => (await userWithSession(t, 'member', [{ id: wsB, role: 'admin' }])).headers,
  };

  it.each(Object.keys(callers))('%s of B cannot read or change anything of A on any route', async (kind) => {
    const headers = await callers[kind as keyof typeof callers]();
    const before = await outsideB(t, wsB);
    const ids = Object.entries(a).filter(([k]) => !NOT_A.has(k)).map(([, v]) => v);
    const failures: string[] = [];
    for (const route of callOrder(tenantRoutes())) {
      const { method, path } = fillPath(route.routeKey, a);
      const body = method === 'GET' || method === 'DELETE' ? undefined : { ...anyBody(wsA, ['configs.read'], 'b'), users: [{ id: a.userId, role: 'admin' }] };
      const query = method === 'GET' && !/\{/.test(route.routeKey) ? `?workspace_id=${wsA}` : '';
      const res = await t.api(path + query, { method, headers, json: body });
      const text = await res.text();
      const namesA = ids.some((id) => path.includes(id));
      // A 2xx is fine only where the call names nothing of A's: a list, an analytics query, sign-in pages.
      if (res.status >= 500 || (res.status < 300 && (namesA || (method !== 'GET' && !route.routeKey.startsWith('POST /v1/feedback'))))) failures.push(`${route.routeKey} → ${res.status} ${text.slice(0, 200)}`);
      const sent = path + query + JSON.stringify(body ?? {});
      for (const id of ids) if (!sent.includes(id) && text.includes(id)) failures.push(`${route.routeKey} shows ${id}`);
      if (method === 'GET' && !/\{/.test(route.routeKey)) {
        const plain = await (await t.api(path, { headers })).text();
        for (const id of ids) if (plain.includes(id)) failures.push(`${route.routeKey} lists ${id}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await outsideB(t, wsB)).toBe(before);
  });

  it('a member of two workspaces sees both, and nothing of a third', async () => {
    const wsC = ((await (await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'Team C' } })).json()) as { id: string }).id;
    const c = await objectsIn(t, wsC);
    const b = await userWithSession(t, 'member', [{ id: wsA, role: 'member' }, { id: wsC, role: 'member' }]);
    for (const [list, key] of [['/v1/prompts', 'promptId'], ['/v1/guardrails', 'guardrailId'], ['/v1/configs', 'configs/slug'], ['/v1/prompts/partials', 'partialId']] as const) {
      const text = await (await t.api(list, { headers: b.headers })).text();
      expect(text, list).toContain(a[key]);
      expect(text, list).toContain(c[key]);
    }
    const onlyB = await objectsIn(t, wsB);
    expect(await (await t.api('/v1/prompts', { headers: b.headers })).text()).not.toContain(onlyB.promptId);
  });
});
