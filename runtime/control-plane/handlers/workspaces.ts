import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { memberRoutes } from '../api/members.js';
import { mutateOrg } from '../db/revision.js';
import {
  deleteWorkspace,
  findWorkspace,
  insertWorkspace,
  listWorkspaces,
  updateWorkspace,
  workspaceContents,
  type WorkspaceRow,
} from '../db/workspaces-repo.js';
import { requireOrganisationKey, visibleTo, type Caller } from '../http/auth.js';
import { authorized, iso } from '../http/authorized.js';
import { controlPlaneHandler, type RouteRequest } from '../http/handler.js';
import { conflict, notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { listBody, pageOf } from '../http/paging.js';
import { etag, expectedVersion, staleOrMissing } from '../http/versioning.js';
import { makeSlug } from '../slugs.js';

const fields = {
  description: z.string().max(1000).nullable().optional(),
  defaults: z.record(z.string(), z.unknown()).nullable().optional(),
  /** Enforced by the gateways across every key of the workspace (docs/guardrails.md). */
  rate_limits: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
};
const createBody = z.object({
  name: z.string().trim().min(1).max(255),
  slug: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lowercase letters, digits and dashes')
    .optional(),
  ...fields,
});
const updateBody = z.object({ name: z.string().trim().min(1).max(255).optional(), ...fields });

function present(w: WorkspaceRow) {
  return {
    id: w.id,
    slug: w.slug,
    name: w.name,
    description: w.description,
    defaults: w.defaults,
    rate_limits: w.rate_limits ?? null,
    is_default: w.is_default ? 1 : 0,
    version: w.version,
    created_at: iso(w.created_at),
    last_updated_at: iso(w.updated_at),
    object: 'workspace',
  };
}

/** `workspaceId` may be the id or the slug, as in Portkey. */
async function findVisible(req: RouteRequest, caller: Caller): Promise<WorkspaceRow> {
  const ref = req.params.workspaceId ?? '';
  const found = await findWorkspace(req.ctx.db, caller.organisationId, ref);
  if (!found || !visibleTo(caller, found.id)) throw notFound(`workspace "${ref}" not found`);
  return found;
}

export const handler = controlPlaneHandler('workspaces', {
  ...memberRoutes,
  'GET /v1/admin/workspaces': authorized('workspaces', 'list', async (req, caller) => {
    const page = pageOf(req.query);
    if (caller.workspaceId) {
      const own = await findWorkspace(req.ctx.db, caller.organisationId, caller.workspaceId);
      return json(200, { object: 'list', total: own ? 1 : 0, data: own ? [present(own)] : [] });
    }
    const { rows, total } = await listWorkspaces(req.ctx.db, caller.organisationId, page.limit, page.offset);
    return json(200, listBody(rows.map(present), total, page));
  }),

  'POST /v1/admin/workspaces': authorized('workspaces', 'create', async (req, caller) => {
    requireOrganisationKey(caller, 'creating a workspace');
    const body = validate(createBody, req.body);
    const created = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      insertWorkspace(tx, caller.organisationId, {
        slug: body.slug ?? makeSlug(body.name, 'ws-'),
        name: body.name,
        description: body.description,
        defaults: body.defaults,
        rateLimits: body.rate_limits,
      }),
    );
    return json(200, present(created));
  }),

  'GET /v1/admin/workspaces/{workspaceId}': authorized('workspaces', 'read', async (req, caller) => {
    const ws = await findVisible(req, caller);
    return json(200, present(ws), etag(ws.version));
  }),

  'PUT /v1/admin/workspaces/{workspaceId}': authorized('workspaces', 'update', async (req, caller) => {
    const body = validate(updateBody, req.body);
    const expected = expectedVersion(req.headers, req.body);
    const existing = await findVisible(req, caller);
    const updated = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      updateWorkspace(tx, caller.organisationId, existing.id, body, expected),
    );
    if (!updated) staleOrMissing('workspace', existing.id, Boolean(await findWorkspace(req.ctx.db, caller.organisationId, existing.id)));
    return json(200, present(updated), etag(updated.version));
  }),

  'DELETE /v1/admin/workspaces/{workspaceId}': authorized('workspaces', 'delete', async (req, caller) => {
    requireOrganisationKey(caller, 'deleting a workspace');
    const existing = await findVisible(req, caller);
    if (existing.is_default) throw conflict('the default workspace cannot be deleted');
    if ((await workspaceContents(req.ctx.db, caller.organisationId, existing.id)) > 0) {
      throw conflict('workspace still holds configs, virtual keys, API keys, prompts or guardrails; delete them first');
    }
    await mutateOrg(req.ctx.db, caller.organisationId, (tx) => deleteWorkspace(tx, caller.organisationId, existing.id));
    return json(200, { success: true });
  }),
});

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/admin/workspaces': { body: createBody, summary: 'Create a workspace' },
  'PUT /v1/admin/workspaces/{workspaceId}': { body: updateBody, summary: 'Update a workspace' },
};
