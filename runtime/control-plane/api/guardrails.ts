import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { deleteGuardrail, getGuardrail, insertGuardrail, listGuardrails, updateGuardrail, type GuardrailRow } from '../db/catalogue-repo.js';
import { mutateOrg } from '../db/revision.js';
import { resolveWorkspace, visibleTo, workspaceFilter, type Caller } from '../http/auth.js';
import { authorized, iso } from '../http/authorized.js';
import type { RouteFn, RouteRequest } from '../http/handler.js';
import { listBody, pageOf } from '../http/paging.js';
import { notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { etag, expectedVersion, staleOrMissing } from '../http/versioning.js';
import { makeSlug } from '../slugs.js';

/** A named guardrail: checks (Portkey's `id` like `default.regexMatch` + `parameters`) and what to do on the verdict. */
const check = z.object({ id: z.string().regex(/^[a-zA-Z0-9_-]+\.[a-zA-Z0-9_-]+$/, 'expected a check id such as "default.regexMatch"'), parameters: z.record(z.string(), z.unknown()).default({}), is_enabled: z.boolean().optional() }).loose();
const actions = z
  .object({ deny: z.boolean().optional(), async: z.boolean().optional(), on_success: z.record(z.string(), z.unknown()).optional(), on_fail: z.record(z.string(), z.unknown()).optional() })
  .loose();
const createBody = z.object({ name: z.string().trim().min(1).max(255), checks: z.array(check).min(1).max(50), actions: actions.default({}), workspace_id: z.string().optional() });
const updateBody = z.object({ name: z.string().trim().min(1).max(255).optional(), checks: z.array(check).min(1).max(50).optional(), actions: actions.optional(), status: z.enum(['active', 'archived']).optional() });

function present(g: GuardrailRow) {
  return { object: 'guardrail', id: g.id, slug: g.slug, name: g.name, workspace_id: g.workspace_id, checks: g.checks, actions: g.actions, status: g.status, version: g.version, created_at: iso(g.created_at), last_updated_at: iso(g.updated_at) };
}

async function find(req: RouteRequest, caller: Caller): Promise<GuardrailRow> {
  const ref = req.params.guardrailId ?? '';
  const g = await getGuardrail(req.ctx.db, caller.organisationId, ref);
  if (!g || !visibleTo(caller, g.workspace_id)) throw notFound(`guardrail "${ref}" not found`);
  return g;
}

export const guardrailRoutes: Record<string, RouteFn> = {
  'POST /v1/guardrails': authorized('guardrails', 'create', async (req, caller) => {
    const body = validate(createBody, req.body);
    const ws = await resolveWorkspace(req.ctx.db, caller, body.workspace_id);
    const g = await mutateOrg(req.ctx.db, caller.organisationId, (tx) => insertGuardrail(tx, caller.organisationId, { workspaceId: ws.id, slug: makeSlug(body.name, 'gr-'), name: body.name, checks: body.checks, actions: body.actions }));
    return json(200, present(g), etag(g.version));
  }),
  'GET /v1/guardrails': authorized('guardrails', 'list', async (req, caller) => {
    const page = pageOf(req.query);
    const { rows, total } = await listGuardrails(req.ctx.db, caller.organisationId, await workspaceFilter(req.ctx.db, caller, req.query.workspace_id), page.limit, page.offset);
    return json(200, listBody(rows.map(present), total, page));
  }),
  'GET /v1/guardrails/{guardrailId}': authorized('guardrails', 'read', async (req, caller) => {
    const g = await find(req, caller);
    return json(200, present(g), etag(g.version));
  }),
  'PUT /v1/guardrails/{guardrailId}': authorized('guardrails', 'update', async (req, caller) => {
    const body = validate(updateBody, req.body);
    const expected = expectedVersion(req.headers, req.body);
    const g = await find(req, caller);
    const updated = await mutateOrg(req.ctx.db, caller.organisationId, (tx) => updateGuardrail(tx, caller.organisationId, g.id, body, expected));
    if (!updated) staleOrMissing('guardrail', g.slug, true);
    return json(200, present(updated), etag(updated.version));
  }),
  'DELETE /v1/guardrails/{guardrailId}': authorized('guardrails', 'delete', async (req, caller) => {
    const g = await find(req, caller);
    await mutateOrg(req.ctx.db, caller.organisationId, (tx) => deleteGuardrail(tx, caller.organisationId, g.id));
    return json(200, { success: true });
  }),
};

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/guardrails': { body: createBody, summary: 'Create a guardrail definition' },
  'PUT /v1/guardrails/{guardrailId}': { body: updateBody, summary: 'Update a guardrail (If-Match / version)' },
};
