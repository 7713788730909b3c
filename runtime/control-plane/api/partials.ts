import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { templateVariables } from '../../core/prompt-render.js';
import { deletePartial, getPartial, insertPartial, listPartials, listPartialVersions, partialMap, publishPartial, updatePartial, type PartialRow } from '../db/partials-repo.js';
import { mutateOrg } from '../db/revision.js';
import { resolveWorkspace, visibleTo, workspaceFilter, type Caller } from '../http/auth.js';
import { authorized, iso } from '../http/authorized.js';
import type { RouteFn, RouteRequest } from '../http/handler.js';
import { listBody, pageOf } from '../http/paging.js';
import { badRequest, notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { assertVersion, etag, expectedVersion } from '../http/versioning.js';
import { makeSlug } from '../slugs.js';

const text = z.string().min(1).max(100_000);
const createBody = z.object({ name: z.string().trim().min(1).max(255), string: text, workspace_id: z.string().optional(), version_description: z.string().max(2000).optional() });
const updateBody = z.object({ name: z.string().trim().min(1).max(255).optional(), string: text.optional(), description: z.string().max(2000).nullable().optional(), version_description: z.string().max(2000).optional(), status: z.enum(['active', 'archived']).optional() });

function present(p: PartialRow) {
  return { object: 'prompt-partial', id: p.id, slug: p.slug, name: p.name, workspace_id: p.workspace_id, status: p.status, string: p.string, description: p.description, version: p.default_version, latest_version: p.latest_version, created_at: iso(p.created_at), last_updated_at: iso(p.updated_at) };
}

/** A partial is itself Mustache and may include other partials; references must exist. */
function checkTemplate(s: string, partials: Record<string, string>): void {
  try {
    templateVariables(s, partials);
  } catch (err) {
    throw badRequest(`string: ${(err as Error).message.slice(0, 200)}`);
  }
}

async function findPartial(req: RouteRequest, caller: Caller): Promise<PartialRow> {
  const ref = req.params.partialId ?? '';
  const p = await getPartial(req.ctx.db, caller.organisationId, ref);
  if (!p || !visibleTo(caller, p.workspace_id)) throw notFound(`prompt partial "${ref}" not found`);
  return p;
}

export const partialRoutes: Record<string, RouteFn> = {
  'POST /v1/prompts/partials': authorized('prompts', 'create', async (req, caller) => {
    const body = validate(createBody, req.body);
    checkTemplate(body.string, await partialMap(req.ctx.db, caller.organisationId));
    const ws = await resolveWorkspace(req.ctx.db, caller, body.workspace_id);
    const p = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      insertPartial(tx, caller.organisationId, { workspaceId: ws.id, slug: makeSlug(body.name, 'ppa-'), name: body.name, string: body.string, description: body.version_description }),
    );
    return json(200, { id: p.id, slug: p.slug, version: 1, object: 'prompt-partial' });
  }),

  'GET /v1/prompts/partials': authorized('prompts', 'list', async (req, caller) => {
    const page = pageOf(req.query);
    const ws = await workspaceFilter(req.ctx.db, caller, req.query.workspace_id);
    const { rows, total } = await listPartials(req.ctx.db, caller.organisationId, ws, page.limit, page.offset);
    return json(200, listBody(rows.map(present), total, page));
  }),

  'GET /v1/prompts/partials/{partialId}': authorized('prompts', 'read', async (req, caller) => {
    const p = await findPartial(req, caller);
    return json(200, present(p), etag(p.latest_version));
  }),

  'PUT /v1/prompts/partials/{partialId}': authorized('prompts', 'update', async (req, caller) => {
    const body = validate(updateBody, req.body);
    const expected = expectedVersion(req.headers, req.body);
    const p = await findPartial(req, caller);
    if (body.string !== undefined) checkTemplate(body.string, await partialMap(req.ctx.db, caller.organisationId));
    const updated = await mutateOrg(req.ctx.db, caller.organisationId, async (tx) => {
      const current = (await getPartial(tx, caller.organisationId, p.id))!;
      assertVersion('prompt partial', current.latest_version, expected);
      return updatePartial(tx, caller.organisationId, current, { ...body, description: body.version_description ?? body.description });
    });
    return json(200, present(updated), etag(updated.latest_version));
  }),

  'DELETE /v1/prompts/partials/{partialId}': authorized('prompts', 'delete', async (req, caller) => {
    const p = await findPartial(req, caller);
    await mutateOrg(req.ctx.db, caller.organisationId, (tx) => deletePartial(tx, caller.organisationId, p.id));
    return json(200, { success: true });
  }),

  'GET /v1/prompts/partials/{partialId}/versions': authorized('prompts', 'read', async (req, caller) => {
    const p = await findPartial(req, caller);
    const versions = await listPartialVersions(req.ctx.db, p.id);
    return json(200, listBody(versions.map((v) => ({ ...v, created_at: iso(v.created_at), object: 'prompt-partial-version' })), versions.length));
  }),

  'PUT /v1/prompts/partials/{partialId}/makeDefault': authorized('prompts', 'update', async (req, caller) => {
    const { version } = validate(z.object({ version: z.number().int().positive() }), req.body);
    const p = await findPartial(req, caller);
    const ok = await mutateOrg(req.ctx.db, caller.organisationId, (tx) => publishPartial(tx, caller.organisationId, p.id, version));
    if (!ok) throw badRequest(`version: prompt partial "${p.slug}" has no version ${version}`);
    return json(200, { success: true });
  }),
};

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/prompts/partials': { body: createBody, summary: 'Create a prompt partial' },
  'PUT /v1/prompts/partials/{partialId}': { body: updateBody, summary: 'Update a partial (new published version)' },
};
