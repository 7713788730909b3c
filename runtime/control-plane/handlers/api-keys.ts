import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { hashSecret, maskSecret, newSecret } from '../../core/secrets.js';
import { API_KEY_PREFIX } from '../bootstrap.js';
import { deleteApiKey, getApiKey, insertApiKey, listApiKeys, rotateApiKey, updateApiKey, type ApiKeyRow } from '../db/api-keys-repo.js';
import { mutateOrg } from '../db/revision.js';
import { badRequest, conflict, forbidden, notFound } from '../http/problems.js';
import { requireOrganisationKey, resolveWorkspace, scopesIn, visibleTo, workspaceFilter, type Caller } from '../http/auth.js';
import { authorized, iso } from '../http/authorized.js';
import { controlPlaneHandler, type RouteRequest } from '../http/handler.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { listBody, pageOf } from '../http/paging.js';
import { KNOWN_SCOPES } from '../scopes.js';
import { etag, expectedVersion, staleOrMissing } from '../http/versioning.js';

const futureDate = z.coerce
  .date({ error: 'expected an ISO 8601 date' })
  .refine((d) => d.getTime() > Date.now(), 'must be in the future');
const defaults = z
  .object({ config_id: z.string().optional(), metadata: z.record(z.string(), z.string()).optional() })
  .loose()
  .nullable();
const common = {
  description: z.string().max(1000).nullable().optional(),
  defaults: defaults.optional(),
  expires_at: futureDate.nullable().optional(),
  usage_limits: z.record(z.string(), z.unknown()).nullable().optional(),
  rate_limits: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
};
const scopeList = z
  .array(z.string().min(1).max(100))
  .max(200)
  .refine((list) => list.every((x) => KNOWN_SCOPES.has(x)), { error: (iss) => `unknown scope(s): ${(iss.input as string[]).filter((x) => !KNOWN_SCOPES.has(x)).join(', ')}` });
const createBody = z.object({
  name: z.string().trim().min(1).max(255).optional(),
  workspace_id: z.string().optional(),
  user_id: z.string().max(255).optional(),
  scopes: scopeList,
  ...common,
});
const updateBody = z.object({
  name: z.string().trim().min(1).max(255).optional(),
  scopes: scopeList.optional(),
  status: z.enum(['active', 'revoked']).optional(),
  ...common,
});
const pathTypes = z.object({ type: z.enum(['organisation', 'workspace']), subType: z.enum(['user', 'service']) });

/** A key may hand out only scopes it holds itself; otherwise any key could mint an admin key. */
function assertGrantable(caller: Caller, scopes: string[], workspaceId: string | null = null): void {
  const held = scopesIn(caller, workspaceId);
  const missing = scopes.filter((s) => !held.has(s));
  if (missing.length) throw forbidden(`scopes: this API key cannot grant scopes it lacks (${missing.join(', ')})`);
}

/** The key itself was shown once at creation; from then on only its mask. */
function present(k: ApiKeyRow) {
  return {
    id: k.id,
    key: k.masked_key,
    name: k.name,
    description: k.description,
    type: `${k.scope}-${k.type}`,
    organisation_id: k.organisation_id,
    workspace_id: k.workspace_id,
    user_id: k.user_id,
    status: k.status,
    version: k.version,
    scopes: k.scopes,
    defaults: k.defaults,
    usage_limits: k.usage_limits,
    rate_limits: k.rate_limits,
    expires_at: iso(k.expires_at),
    creation_mode: 'api',
    created_at: iso(k.created_at),
    last_updated_at: iso(k.updated_at),
    object: 'api-key',
  };
}

async function findVisible(req: RouteRequest, caller: Caller): Promise<ApiKeyRow> {
  const id = req.params.id ?? '';
  const found = await getApiKey(req.ctx.db, caller.organisationId, id);
  if (!found || !visibleTo(caller, found.workspace_id)) throw notFound(`API key "${id}" not found`);
  return found;
}

export const handler = controlPlaneHandler('api-keys', {
  'GET /v1/api-keys': authorized('api_keys', 'list', async (req, caller) => {
    const page = pageOf(req.query);
    const workspaceId = await workspaceFilter(req.ctx.db, caller, req.query.workspace_id);
    const { rows, total } = await listApiKeys(req.ctx.db, caller.organisationId, workspaceId, page.limit, page.offset);
    return json(200, listBody(rows.map(present), total, page));
  }),

  'POST /v1/api-keys/{type}/{subType}': authorized('api_keys', 'create', async (req, caller) => {
    const path = pathTypes.safeParse(req.params);
    if (!path.success) throw badRequest('path: expected /v1/api-keys/{organisation|workspace}/{user|service}');
    const { type: scope, subType: type } = path.data;
    const body = validate(createBody, req.body);
    let workspaceId: string | null = null;
    if (scope === 'organisation') requireOrganisationKey(caller, 'creating an organisation API key');
    else workspaceId = (await resolveWorkspace(req.ctx.db, caller, body.workspace_id)).id;
    assertGrantable(caller, body.scopes, workspaceId);
    const key = newSecret(API_KEY_PREFIX);
    const created = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      insertApiKey(tx, caller.organisationId, {
        keyHash: hashSecret(key),
        maskedKey: maskSecret(key),
        name: body.name ?? `${scope} ${type} key`,
        description: body.description,
        scope,
        type,
        workspaceId,
        userId: body.user_id,
        scopes: body.scopes,
        expiresAt: body.expires_at,
        defaults: body.defaults,
        usageLimits: body.usage_limits,
        rateLimits: body.rate_limits,
      }),
    );
    return json(200, { id: created.id, key, object: 'api-key' });
  }),

  'GET /v1/api-keys/{id}': authorized('api_keys', 'read', async (req, caller) => {
    const key = await findVisible(req, caller);
    return json(200, present(key), etag(key.version));
  }),

  'PUT /v1/api-keys/{id}': authorized('api_keys', 'update', async (req, caller) => {
    const body = validate(updateBody, req.body);
    const expected = expectedVersion(req.headers, req.body);
    const existing = await findVisible(req, caller);
    if (body.scopes) assertGrantable(caller, body.scopes, existing.workspace_id);
    const updated = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      updateApiKey(tx, caller.organisationId, existing.id, {
        name: body.name,
        description: body.description,
        scopes: body.scopes,
        status: body.status,
        expiresAt: body.expires_at,
        defaults: body.defaults,
        usageLimits: body.usage_limits,
        rateLimits: body.rate_limits,
      }, expected),
    );
    if (!updated) staleOrMissing('API key', existing.id, Boolean(await getApiKey(req.ctx.db, caller.organisationId, existing.id)));
    return json(200, present(updated), etag(updated.version));
  }),

  /** A new secret for the same key (id, scopes, defaults kept); the old secret stops working at once. */
  'POST /v1/api-keys/{id}/rotate': authorized('api_keys', 'update', async (req, caller) => {
    const existing = await findVisible(req, caller);
    if (existing.status !== 'active') throw conflict(`API key "${existing.id}" is ${existing.status}`);
    const expected = expectedVersion(req.headers, req.body);
    const key = newSecret(API_KEY_PREFIX);
    const rotated = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      rotateApiKey(tx, caller.organisationId, existing.id, hashSecret(key), maskSecret(key), expected),
    );
    if (!rotated) staleOrMissing('API key', existing.id, true);
    return json(200, { id: rotated.id, key, version: rotated.version, object: 'api-key' }, etag(rotated.version));
  }),

  'DELETE /v1/api-keys/{id}': authorized('api_keys', 'delete', async (req, caller) => {
    const existing = await findVisible(req, caller);
    const deleted = await mutateOrg(req.ctx.db, caller.organisationId, (tx) => deleteApiKey(tx, caller.organisationId, existing.id));
    if (!deleted) throw notFound(`API key "${existing.id}" not found`);
    return json(200, { success: true });
  }),
});

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/api-keys/{type}/{subType}': { body: createBody, summary: 'Create an API key (shown once)' },
  'PUT /v1/api-keys/{id}': { body: updateBody, summary: 'Update or revoke an API key' },
};
