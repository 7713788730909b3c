import { withTenant } from '../../runtime/control-plane/db/tenant.js';
import { upsertMember } from '../../runtime/control-plane/db/members-repo.js';
import { insertUser } from '../../runtime/control-plane/db/users-repo.js';
import type { TestControlPlane } from './cp-harness.js';

let seq = 0;

/**
 * One of each object a route can name, in workspace `ws` of the harness's org, created through the
 * API with the admin key. Returns the `{param}` values `fillPath` needs for every route of the table.
 */
export async function objectsIn(t: TestControlPlane, ws: string): Promise<Record<string, string>> {
  const n = `${++seq}-${Math.random().toString(36).slice(2, 6)}`;
  const cfg = await t.sdk.configs.create({ name: `c${n}`, config: { provider: 'openai' }, workspace_id: ws });
  const vk = await t.sdk.virtualKeys.create({ name: `v${n}`, provider: 'openai', key: 'sk-fixture-00000000000', workspace_id: ws });
  const key = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'service', scopes: ['configs.read'], workspace_id: ws });
  const target = await withTenant(t.cp.db, t.cp.organisationId, async (db) => {
    const u = await insertUser(db, t.cp.organisationId, { email: `target-${n}@example.com`, role: 'member' });
    await upsertMember(db, t.cp.organisationId, ws, u.id, 'member');
    return u;
  });
  const invite = await t.sdk.admin.users.invites.create({ email: `invitee-${n}@example.com`, role: 'member' });
  const prompt = await t.sdk.prompts.create({ name: `p${n}`, collection_id: 'c', string: 'Hi {{x}}', parameters: {}, workspace_id: ws } as never);
  const partial = await t.sdk.prompts.partials.create({ name: `pp${n}`, string: 'P', workspace_id: ws });
  const guardrail = (await (await t.api('/v1/guardrails', { method: 'POST', json: { name: `g${n}`, checks: [{ id: 'default.contains' }], workspace_id: ws } })).json()) as { id: string };
  const model = `model-${n}`;
  const priced = await t.api(`/v1/pricing/acme/${model}`, { method: 'PUT', json: { input: 1, output: 2 } });
  if (!cfg.slug || !vk.slug || !key.id || !invite.id || !guardrail.id || priced.status !== 200) throw new Error('fixture creation failed');
  return {
    workspaceId: ws,
    'configs/slug': cfg.slug,
    'virtual-keys/slug': vk.slug,
    id: key.id,
    type: 'workspace',
    subType: 'service',
    userId: target.id,
    inviteId: invite.id,
    promptId: prompt.slug as string,
    versionId: '1',
    partialId: partial.slug as string,
    guardrailId: guardrail.id,
    provider: 'acme',
    model,
    organisationId: t.cp.organisationId,
    metadataKey: 'team',
    groupBy: 'ai-models',
    'logs/id': 'log-missing',
    'feedback/id': 'fb-missing',
  };
}

/** A request body every route's validation gets past or rejects with a 400 (never before its auth check). */
export function anyBody(ws: string, scopes: string[], n: string | number): Record<string, unknown> {
  return {
    name: `n${n}`,
    workspace_id: ws,
    config: { provider: 'openai' },
    provider: 'openai',
    key: 'sk-x-000000000',
    scopes,
    users: [],
    email: `x-${n}-${Math.random().toString(36).slice(2, 6)}@example.com`,
    role: 'member',
    string: 'Hello {{x}}',
    variables: { x: 'y' },
    checks: [{ id: 'default.contains' }],
    input: 1,
    output: 2,
    // Ingestion validates its body before the credential: empty batches reach the credential check.
    records: [],
    logs: [],
  };
}

const METHOD_ORDER = ['GET', 'POST', 'PUT', 'DELETE'];
/** Calls that destroy what later calls need go last: deletes, then the workspace, then signing out. */
function rank(routeKey: string): number {
  if (routeKey === 'POST /v1/auth/logout') return 9;
  if (routeKey === 'DELETE /v1/admin/workspaces/{workspaceId}') return 8;
  return METHOD_ORDER.indexOf(routeKey.split(' ')[0]);
}
export const callOrder = <T extends { routeKey: string }>(routes: T[]): T[] => [...routes].sort((a, b) => rank(a.routeKey) - rank(b.routeKey));
