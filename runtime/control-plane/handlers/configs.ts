import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { parseGatewayConfig } from '../../core/config-schema.js';
import { deleteConfig, getConfig, insertConfig, listConfigs, updateConfig, type ConfigRow } from '../db/configs-repo.js';
import { mutateOrg } from '../db/revision.js';
import { resolveWorkspace, visibleTo, workspaceFilter, type Caller } from '../http/auth.js';
import { authorized, iso } from '../http/authorized.js';
import { controlPlaneHandler, type RouteRequest } from '../http/handler.js';
import { badRequest, notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { listBody, pageOf } from '../http/paging.js';
import { etag, expectedVersion, staleOrMissing } from '../http/versioning.js';
import { makeSlug } from '../slugs.js';
import { configVersionRoutes, openapi as versionSchemas } from '../api/config-versions.js';

/** Portkey's UI sends `config` as a JSON string, the SDKs as an object; both are accepted. */
const configField = z.union([z.record(z.string(), z.unknown()), z.string()]);
const createBody = z.object({
  name: z.string().trim().min(1).max(255),
  config: configField,
  is_default: z.union([z.number().int().min(0).max(1), z.boolean()]).optional(),
  workspace_id: z.string().optional(),
});
const updateBody = z.object({
  name: z.string().trim().min(1).max(255).optional(),
  config: configField.optional(),
  status: z.enum(['active', 'archived']).optional(),
});

/** Validated against the gateway's own schema, so a config that saves is a config the gateway runs. */
function gatewayConfig(input: Record<string, unknown> | string): Record<string, unknown> {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw badRequest('config: not valid JSON');
    }
  }
  const parsed = parseGatewayConfig(value, 'config');
  if (!parsed.ok) throw badRequest(parsed.message);
  return parsed.value as Record<string, unknown>;
}

function present(c: ConfigRow) {
  return {
    id: c.id,
    slug: c.slug,
    name: c.name,
    workspace_id: c.workspace_id,
    organisation_id: c.organisation_id,
    is_default: c.is_default ? 1 : 0,
    status: c.status,
    config: c.config,
    format: 'json',
    type: 'ORG_CONFIG',
    version_id: c.version_id,
    version: c.latest_version,
    created_at: iso(c.created_at),
    last_updated_at: iso(c.updated_at),
    object: 'config',
  };
}

async function findVisible(req: RouteRequest, caller: Caller): Promise<ConfigRow> {
  const slug = req.params.slug ?? '';
  const found = await getConfig(req.ctx.db, caller.organisationId, slug);
  if (!found || !visibleTo(caller, found.workspace_id)) throw notFound(`config "${slug}" not found`);
  return found;
}

export const handler = controlPlaneHandler('configs', {
  'GET /v1/configs': authorized('configs', 'list', async (req, caller) => {
    const workspaceId = await workspaceFilter(req.ctx.db, caller, req.query.workspace_id);
    const page = pageOf(req.query);
    const { rows, total } = await listConfigs(req.ctx.db, caller.organisationId, workspaceId, page.limit, page.offset);
    return json(200, listBody(rows.map(present), total, page));
  }),

  'POST /v1/configs': authorized('configs', 'create', async (req, caller) => {
    const body = validate(createBody, req.body);
    const config = gatewayConfig(body.config);
    const ws = await resolveWorkspace(req.ctx.db, caller, body.workspace_id);
    const created = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      insertConfig(tx, caller.organisationId, {
        workspaceId: ws.id,
        slug: makeSlug(body.name, 'pc-'),
        name: body.name,
        isDefault: Boolean(body.is_default),
        config,
      }),
    );
    const ids = { id: created.id, slug: created.slug, version_id: created.version_id };
    return json(200, { success: true, data: ids, ...ids, object: 'config' });
  }),

  'GET /v1/configs/{slug}': authorized('configs', 'read', async (req, caller) => {
    const c = await findVisible(req, caller);
    return json(200, present(c), etag(c.latest_version));
  }),

  'PUT /v1/configs/{slug}': authorized('configs', 'update', async (req, caller) => {
    const body = validate(updateBody, req.body);
    const config = body.config === undefined ? undefined : gatewayConfig(body.config);
    const expected = expectedVersion(req.headers, req.body);
    const existing = await findVisible(req, caller);
    const updated = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      updateConfig(tx, caller.organisationId, existing.slug, { name: body.name, config, status: body.status }, expected),
    );
    if (!updated) staleOrMissing('config', existing.slug, Boolean(await getConfig(req.ctx.db, caller.organisationId, existing.slug)));
    const ids = { id: updated.id, slug: updated.slug, version_id: updated.version_id, version: updated.latest_version };
    return json(200, { success: true, data: ids, ...ids, object: 'config' }, etag(updated.latest_version));
  }),

  'DELETE /v1/configs/{slug}': authorized('configs', 'delete', async (req, caller) => {
    const existing = await findVisible(req, caller);
    const deleted = await mutateOrg(req.ctx.db, caller.organisationId, (tx) => deleteConfig(tx, caller.organisationId, existing.slug));
    if (!deleted) throw notFound(`config "${existing.slug}" not found`);
    return json(200, { success: true });
  }),

  ...configVersionRoutes(findVisible),
});

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/configs': { body: createBody, summary: 'Create a config' },
  'PUT /v1/configs/{slug}': { body: updateBody, summary: 'Update a config (new version)' },
  ...versionSchemas,
};
