import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG_ROLE_SCOPES, WORKSPACE_ROLE_SCOPES } from '../../runtime/control-plane/roles.js';
import { ALL_SCOPES } from '../../runtime/control-plane/scopes.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { anyBody, callOrder, objectsIn } from '../support/cp-fixtures.js';
import { fillPath } from '../support/cp-isolation.js';
import { readPermissionTable, ROLE_CODES, routesWithRows, type PermissionRow } from '../support/cp-permission-table.js';
import { userWithSession } from '../support/cp-users.js';

/**
 * Role × route matrix. The expectations are docs/permissions.md's table (parsed), the routes are the
 * route table itself: a new route without a row, a row without a route, or a route whose answer
 * differs from its row fails here.
 */
const table = readPermissionTable();
const routes = callOrder(routesWithRows(table));

const ROLES = [
  { code: 'o', org: 'owner' },
  { code: 'a', org: 'admin' },
  { code: 'W', org: 'member', ws: 'admin' },
  { code: 'M', org: 'member', ws: 'manager' },
  { code: 'm', org: 'member', ws: 'member' },
  // An org member in no workspace: no ✓ anywhere in the table.
  { code: '-', org: 'member' },
] as const;

const denied = (row: PermissionRow) => (row.gate === 'platform' || row.gate === 'data-plane' ? [401, 403] : [403]);
const passed = (status: number) => status !== 401 && status !== 403 && status < 500;

describe('docs/permissions.md', () => {
  it('has exactly one row for every route of the route table, and no row without a route', () => {
    expect(() => routesWithRows(table)).not.toThrow();
    const used = new Set(routes.map((r) => r.row));
    expect(table.filter((r) => !used.has(r)).map((r) => r.pattern)).toEqual([]);
  });

  it('agrees with roles.ts on which role holds each scope', () => {
    const roleScopes: Record<string, ReadonlySet<string>> = { o: ORG_ROLE_SCOPES.owner, a: ORG_ROLE_SCOPES.admin, W: WORKSPACE_ROLE_SCOPES.admin, M: WORKSPACE_ROLE_SCOPES.manager, m: WORKSPACE_ROLE_SCOPES.member };
    const wrong: string[] = [];
    for (const row of table.filter((r) => r.gate === 'scope')) {
      // Price overrides are org-wide objects: no workspace role reaches them whatever its scopes.
      const orgOnly = row.pattern.startsWith('PUT /v1/pricing') || row.pattern.startsWith('DELETE /v1/pricing');
      const expected = ROLE_CODES.filter((c) => row.scopes.some((s) => roleScopes[c].has(s)) && !(orgOnly && 'WMm'.includes(c))).join('');
      if (expected !== row.roles) wrong.push(`${row.pattern}: table ${row.roles || '-'}, roles.ts ${expected || '-'}`);
      for (const s of row.scopes) if (!ALL_SCOPES.includes(s)) wrong.push(`${row.pattern}: unknown scope ${s}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe.each(engines)('role × route permission matrix on %s', (engine) => {
  let t: EngineControlPlane;
  beforeAll(async () => {
    t = await startOn(engine);
  });
  afterAll(async () => t?.stop());

  it('every role gets 403 exactly where its row in docs/permissions.md has no ✓', async () => {
    const failures: string[] = [];
    for (const role of ROLES) {
      // A fresh workspace and objects per role, so one role's DELETEs do not turn the next role's calls into 404s.
      const ws = (await (await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: `Matrix ${role.code}` } })).json()) as { id: string };
      const values = await objectsIn(t, ws.id);
      const caller = await userWithSession(t, role.org, 'ws' in role ? [{ id: ws.id, role: role.ws }] : []);
      for (const { routeKey, row } of routes) {
        const { method, path } = fillPath(routeKey, values);
        const res = await t.api(path, { method, headers: caller.headers, json: method === 'GET' || method === 'DELETE' ? undefined : anyBody(ws.id, ['configs.read'], role.code) });
        const allowed = row.roles.includes(role.code);
        const ok =
          row.gate === 'session' ? passed(res.status) : row.gate === 'public' ? res.status !== 403 && res.status < 500 : allowed ? passed(res.status) : denied(row).includes(res.status);
        if (!ok) failures.push(`${role.code} ${routeKey} (${row.gate} ${row.scopes.join('|')}) → ${res.status} ${(await res.text()).slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('an API key passes with just the named scope and gets 403 with every other scope', async () => {
    const failures: string[] = [];
    const keys = new Map<string, string>();
    const keyWith = async (type: 'organisation' | 'workspace', scopes: string[]): Promise<string> => {
      const id = `${type}:${scopes.join(',')}`;
      if (!keys.has(id)) keys.set(id, (await t.sdk.apiKeys.create({ type, 'sub-type': 'service', scopes })).key!);
      return keys.get(id)!;
    };
    const ws = (await (await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'Matrix keys' } })).json()) as { id: string };
    const values = await objectsIn(t, ws.id);
    for (const { routeKey, row } of routes) {
      const { method, path } = fillPath(routeKey, values);
      const call = async (key: string, scopes: string[]) => {
        const res = await t.api(path, { method, headers: { 'x-portkey-api-key': key }, json: method === 'GET' || method === 'DELETE' ? undefined : anyBody(ws.id, scopes, 'k') });
        return { status: res.status, text: (await res.text()).slice(0, 200) };
      };
      const expect1 = (label: string, r: { status: number; text: string }, good: boolean) => {
        if (!good) failures.push(`${routeKey} ${label} → ${r.status} ${r.text}`);
      };
      if (row.gate === 'scope') {
        const others = ALL_SCOPES.filter((s) => !row.scopes.includes(s));
        const without = await call(await keyWith('organisation', others), others);
        expect1(`without ${row.scopes.join('|')}`, without, without.status === 403);
        for (const scope of row.scopes) {
          const only = await call(await keyWith('organisation', [scope]), [scope]);
          expect1(`with only ${scope}`, only, passed(only.status));
        }
      } else if (row.gate === 'org-wide') {
        const wsKey = await call(await keyWith('workspace', [...ALL_SCOPES]), []);
        expect1('workspace key', wsKey, wsKey.status === 403);
        const orgKey = await call(await keyWith('organisation', ['configs.read']), []);
        expect1('organisation key', orgKey, passed(orgKey.status));
      } else if (row.gate === 'public') {
        const r = await call('', []);
        expect1('no credential', r, r.status !== 403 && r.status < 500);
      } else {
        // Sessions, the platform and data planes each take their own credential; an admin API key is none of them.
        const r = await call(t.cp.adminApiKey, [...ALL_SCOPES]);
        expect1('organisation admin key', r, r.status === 401);
      }
    }
    expect(failures).toEqual([]);
  });
});
