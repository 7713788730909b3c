import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneRoutes } from '../../runtime/control-plane/routes.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { fillPath } from '../support/cp-isolation.js';
import { userWithSession } from '../support/cp-users.js';

/**
 * Role × route matrix. Each route's scope is written out here by hand (not read from the code), and
 * docs/permissions.md holds the same table: a route whose scope changes, or a new route, fails here.
 */
const ROUTE_SCOPES: Record<string, string> = {
  'GET /v1/admin/workspaces': 'workspaces.list',
  'POST /v1/admin/workspaces': 'workspaces.create',
  'GET /v1/admin/workspaces/{workspaceId}': 'workspaces.read',
  'PUT /v1/admin/workspaces/{workspaceId}': 'workspaces.update',
  'DELETE /v1/admin/workspaces/{workspaceId}': 'workspaces.delete',
  'POST /v1/admin/workspaces/{workspaceId}/users': 'workspace_users.create',
  'GET /v1/admin/workspaces/{workspaceId}/users': 'workspace_users.list',
  'GET /v1/admin/workspaces/{workspaceId}/users/{userId}': 'workspace_users.read',
  'PUT /v1/admin/workspaces/{workspaceId}/users/{userId}': 'workspace_users.update',
  'DELETE /v1/admin/workspaces/{workspaceId}/users/{userId}': 'workspace_users.delete',
  'GET /v1/virtual-keys': 'virtual_keys.list',
  'POST /v1/virtual-keys': 'virtual_keys.create',
  'GET /v1/virtual-keys/{slug}': 'virtual_keys.read',
  'PUT /v1/virtual-keys/{slug}': 'virtual_keys.update',
  'DELETE /v1/virtual-keys/{slug}': 'virtual_keys.delete',
  'GET /v1/configs': 'configs.list',
  'POST /v1/configs': 'configs.create',
  'GET /v1/configs/{slug}': 'configs.read',
  'PUT /v1/configs/{slug}': 'configs.update',
  'DELETE /v1/configs/{slug}': 'configs.delete',
  'GET /v1/api-keys': 'api_keys.list',
  'POST /v1/api-keys/{type}/{subType}': 'api_keys.create',
  'GET /v1/api-keys/{id}': 'api_keys.read',
  'PUT /v1/api-keys/{id}': 'api_keys.update',
  'DELETE /v1/api-keys/{id}': 'api_keys.delete',
  'POST /v1/api-keys/{id}/rotate': 'api_keys.update',
  'GET /v1/admin/users': 'organisation_users.list',
  'GET /v1/admin/users/{userId}': 'organisation_users.read',
  'PUT /v1/admin/users/{userId}': 'organisation_users.update',
  'DELETE /v1/admin/users/{userId}': 'organisation_users.delete',
  'POST /v1/admin/users/invites': 'organisation_users.create',
  'GET /v1/admin/users/invites': 'organisation_users.list',
  'GET /v1/admin/users/invites/{inviteId}': 'organisation_users.read',
  'DELETE /v1/admin/users/invites/{inviteId}': 'organisation_users.delete',
  'POST /v1/admin/users/invites/{inviteId}/resend': 'organisation_users.create',
  'POST /v1/prompts': 'prompts.create',
  'GET /v1/prompts': 'prompts.list',
  'GET /v1/prompts/{promptId}': 'prompts.read',
  'PUT /v1/prompts/{promptId}': 'prompts.update',
  'DELETE /v1/prompts/{promptId}': 'prompts.delete',
  'PUT /v1/prompts/{promptId}/makeDefault': 'prompts.update',
  'GET /v1/prompts/{promptId}/versions': 'prompts.read',
  'GET /v1/prompts/{promptId}/versions/{versionId}': 'prompts.read',
  'PUT /v1/prompts/{promptId}/versions/{versionId}': 'prompts.update',
  'POST /v1/prompts/{promptId}/render': 'prompts.render',
  'POST /v1/prompts/partials': 'prompts.create',
  'GET /v1/prompts/partials': 'prompts.list',
  'GET /v1/prompts/partials/{partialId}': 'prompts.read',
  'PUT /v1/prompts/partials/{partialId}': 'prompts.update',
  'DELETE /v1/prompts/partials/{partialId}': 'prompts.delete',
  'GET /v1/prompts/partials/{partialId}/versions': 'prompts.read',
  'PUT /v1/prompts/partials/{partialId}/makeDefault': 'prompts.update',
};

/** Which roles hold each scope (docs/permissions.md). `o` owner, `a` admin, `W` ws admin, `M` ws manager, `m` ws member. */
function holders(scope: string): string {
  const [resource, verb] = scope.split('.');
  if (resource === 'organisation_users' || scope === 'workspaces.create' || scope === 'workspaces.delete') return 'oa';
  if (resource === 'workspaces') return verb === 'update' ? 'oaW' : 'oaWMm';
  if (resource === 'workspace_users') return verb === 'read' || verb === 'list' ? 'oaWMm' : 'oaW';
  return verb === 'read' || verb === 'list' || verb === 'render' ? 'oaWMm' : 'oaWM';
}

const ROLES = [
  { code: 'o', org: 'owner' },
  { code: 'a', org: 'admin' },
  { code: 'W', org: 'member', ws: 'admin' },
  { code: 'M', org: 'member', ws: 'manager' },
  { code: 'm', org: 'member', ws: 'member' },
  { code: '-', org: 'member' },
] as const;

describe.each(engines)('role × route permission matrix on %s', (engine) => {
  let t: EngineControlPlane;
  beforeAll(async () => {
    t = await startOn(engine);
  });
  afterAll(async () => t?.stop());

  it('lists every admin route of this issue', () => {
    const mine = controlPlaneRoutes.filter((r) => /^[A-Z]+ \/v1\/(admin|virtual-keys|configs|api-keys|prompts)/.test(r.routeKey)).map((r) => r.routeKey);
    expect(mine.sort()).toEqual(Object.keys(ROUTE_SCOPES).sort());
  });

  it('each role gets 403 exactly where its role does not grant the route', async () => {
    const ws = (await (await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'Matrix' } })).json()) as { id: string };
    const failures: string[] = [];
    for (const role of ROLES) {
      // Fresh objects per role, so one role's DELETE does not turn the next role's call into a 404.
      const cfg = await t.sdk.configs.create({ name: 'm', config: { provider: 'openai' }, workspace_id: ws.id });
      const vk = await t.sdk.virtualKeys.create({ name: 'm', provider: 'openai', key: 'sk-matrix-00000000000', workspace_id: ws.id });
      const key = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'service', scopes: ['configs.read'], workspace_id: ws.id });
      const target = await userWithSession(t, 'member', [{ id: ws.id, role: 'member' }]);
      const invite = await t.sdk.admin.users.invites.create({ email: `i-${role.code}@example.com`, role: 'member' });
      const prompt = await t.sdk.prompts.create({ name: 'm', collection_id: 'c', string: 'Hi {{x}}', parameters: {}, workspace_id: ws.id } as never);
      const partial = await t.sdk.prompts.partials.create({ name: `p-${role.code}`, string: 'P', workspace_id: ws.id });
      const caller = await userWithSession(t, role.org, 'ws' in role ? [{ id: ws.id, role: role.ws }] : []);
      const values = { 'configs/slug': cfg.slug!, 'virtual-keys/slug': vk.slug!, workspaceId: ws.id, id: key.id!, userId: target.id, inviteId: invite.id!, promptId: prompt.slug as string, partialId: partial.slug as string, versionId: '1', type: 'workspace', subType: 'service' };
      const body = { name: 'n', workspace_id: ws.id, config: { provider: 'openai' }, provider: 'openai', key: 'sk-x-000000000', scopes: ['configs.read'], users: [{ id: target.id, role: 'member' }], email: `x-${role.code}@example.com`, role: 'member' };
      for (const [routeKey, scope] of Object.entries(ROUTE_SCOPES)) {
        if (routeKey.startsWith('DELETE /v1/admin/users/{userId}') && role.code === 'o') continue; // keeps the target for later rows
        const { method, path } = fillPath(routeKey, values);
        const res = await t.api(path, { method, headers: caller.headers, json: method === 'GET' || method === 'DELETE' ? undefined : body });
        const allowed = holders(scope).includes(role.code);
        const ok = allowed ? res.status !== 401 && res.status !== 403 && res.status < 500 : res.status === 403;
        if (!ok) failures.push(`${role.code} ${routeKey} (${scope}) → ${res.status} ${await res.text()}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
