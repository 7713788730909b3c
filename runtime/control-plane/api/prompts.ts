import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { MissingVariablesError, renderPromptMessages } from '../../core/prompt-render.js';
import { partialMap } from '../db/partials-repo.js';
import { addPromptVersion, deletePrompt, getPrompt, getPromptVersion, insertPrompt, labelsOf, labelsOfMany, listPrompts, listPromptVersions, promptVersionsMany, setLabel, type PromptRow, type PromptVersionRow } from '../db/prompts-repo.js';
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
import { hasTemplateChange, templateFields, versionInput } from './prompt-body.js';

const createBody = z.object({ name: z.string().trim().min(1).max(255), collection_id: z.string().max(255).optional(), workspace_id: z.string().optional(), ...templateFields });
const updateBody = z.object({ name: z.string().trim().min(1).max(255).optional(), collection_id: z.string().max(255).optional(), ...templateFields });
const label = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/, 'expected a label such as production, staging or latest');
const selector = z.object({ version: z.coerce.number().int().positive().optional(), label: label.optional() });
const renderBody = z.object({ variables: z.record(z.string(), z.unknown()).default({}), version: z.number().int().positive().optional(), label: label.optional() }).loose();

function present(p: PromptRow, v: PromptVersionRow, labels: Record<string, number>) {
  return {
    object: 'prompt',
    id: p.id,
    slug: p.slug,
    name: p.name,
    collection_id: p.collection_id,
    workspace_id: p.workspace_id,
    status: p.status,
    latest_version: p.latest_version,
    labels,
    version: v.version,
    version_id: v.id,
    version_description: v.description,
    string: JSON.stringify(v.messages),
    messages: v.messages,
    parameters: v.parameters,
    model: v.model,
    virtual_key: v.virtual_key,
    provider: v.provider,
    tools: v.tools,
    tool_choice: v.tool_choice ?? null,
    template_metadata: v.template_metadata,
    created_at: iso(p.created_at),
    last_updated_at: iso(p.updated_at),
  };
}

async function findPrompt(req: RouteRequest, caller: Caller): Promise<PromptRow> {
  const ref = req.params.promptId ?? '';
  const p = await getPrompt(req.ctx.db, caller.organisationId, ref);
  if (!p || !visibleTo(caller, p.workspace_id)) throw notFound(`prompt "${ref}" not found`);
  return p;
}

/** `version` wins over `label`; the default is the `production` label. */
async function selectVersion(req: RouteRequest, p: PromptRow, sel: { version?: number; label?: string }): Promise<PromptVersionRow> {
  const labels = await labelsOf(req.ctx.db, p.id);
  const n = sel.version ?? (sel.label ? labels[sel.label] : (labels.production ?? p.latest_version));
  if (n === undefined) throw notFound(`prompt "${p.slug}" has no label "${sel.label}"`);
  const v = await getPromptVersion(req.ctx.db, p.id, n);
  if (!v) throw notFound(`prompt "${p.slug}" has no version ${n}`);
  return v;
}

async function moveLabel(req: RouteRequest, caller: Caller, p: PromptRow, name: string, version: number) {
  if (!(await getPromptVersion(req.ctx.db, p.id, version))) throw badRequest(`version: prompt "${p.slug}" has no version ${version}`);
  await mutateOrg(req.ctx.db, caller.organisationId, (tx) => setLabel(tx, caller.organisationId, p.id, name, version));
}

export const promptRoutes: Record<string, RouteFn> = {
  'POST /v1/prompts': authorized('prompts', 'create', async (req, caller) => {
    const body = validate(createBody, req.body);
    const ws = await resolveWorkspace(req.ctx.db, caller, body.workspace_id);
    const input = versionInput(body, await partialMap(req.ctx.db, caller.organisationId));
    const { prompt, version } = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      insertPrompt(tx, caller.organisationId, { workspaceId: ws.id, slug: makeSlug(body.name, 'pp-'), name: body.name, collectionId: body.collection_id }, input),
    );
    return json(200, { id: prompt.id, slug: prompt.slug, version_id: version.id, version: 1, workspace_id: ws.id, object: 'prompt' });
  }),

  'GET /v1/prompts': authorized('prompts', 'list', async (req, caller) => {
    const page = pageOf(req.query);
    const workspaceId = await workspaceFilter(req.ctx.db, caller, req.query.workspace_id);
    const { rows, total } = await listPrompts(req.ctx.db, caller.organisationId, { workspaceId, collectionId: req.query.collection_id, search: req.query.search }, page.limit, page.offset);
    // Two queries for the page, not three per prompt (bench/control-plane-lists.ts).
    const labels = await labelsOfMany(req.ctx.db, rows.map((p) => p.id));
    const shown = rows.map((p) => ({ promptId: p.id, version: labels.get(p.id)?.production ?? p.latest_version }));
    const versions = await promptVersionsMany(req.ctx.db, shown);
    const data = rows.map((p, i) => {
      const v = versions.get(`${p.id}@${shown[i].version}`);
      if (!v) throw notFound(`prompt "${p.slug}" has no version ${shown[i].version}`);
      return present(p, v, labels.get(p.id) ?? {});
    });
    return json(200, listBody(data, total, page));
  }),

  'GET /v1/prompts/{promptId}': authorized('prompts', 'read', async (req, caller) => {
    const p = await findPrompt(req, caller);
    const v = await selectVersion(req, p, validate(selector, req.query));
    return json(200, present(p, v, await labelsOf(req.ctx.db, p.id)), etag(p.latest_version));
  }),

  /** A template change makes a new version and moves `latest`; `production` moves only when published. */
  'PUT /v1/prompts/{promptId}': authorized('prompts', 'update', async (req, caller) => {
    const body = validate(updateBody, req.body);
    const expected = expectedVersion(req.headers, req.body);
    const p = await findPrompt(req, caller);
    const out = await mutateOrg(req.ctx.db, caller.organisationId, async (tx) => {
      const current = (await tx.query<PromptRow>('SELECT * FROM prompts WHERE id = $1 FOR UPDATE', [p.id])).rows[0];
      assertVersion('prompt', current.latest_version, expected);
      if (!hasTemplateChange(body)) {
        await tx.query('UPDATE prompts SET name = COALESCE($2, name), collection_id = COALESCE($3, collection_id), updated_at = now() WHERE id = $1', [p.id, body.name ?? null, body.collection_id ?? null]);
        return { version: (await getPromptVersion(tx, p.id, current.latest_version))!, latest: current.latest_version };
      }
      const base = (await getPromptVersion(tx, p.id, current.latest_version))!;
      const input = versionInput(body, await partialMap(tx, caller.organisationId), base);
      const version = await addPromptVersion(tx, caller.organisationId, current, body.name, input);
      return { version, latest: version.version };
    });
    return json(200, { id: p.id, slug: p.slug, version_id: out.version.id, version: out.version.version, object: 'prompt' }, etag(out.latest));
  }),

  'DELETE /v1/prompts/{promptId}': authorized('prompts', 'delete', async (req, caller) => {
    const p = await findPrompt(req, caller);
    await mutateOrg(req.ctx.db, caller.organisationId, (tx) => deletePrompt(tx, caller.organisationId, p.id));
    return json(200, { success: true });
  }),

  /** Publish (Portkey's makeDefault): moves `production`. Publishing an older version is the rollback. */
  'PUT /v1/prompts/{promptId}/makeDefault': authorized('prompts', 'update', async (req, caller) => {
    const { version } = validate(z.object({ version: z.number().int().positive() }), req.body);
    const p = await findPrompt(req, caller);
    await moveLabel(req, caller, p, 'production', version);
    return json(200, { success: true, labels: await labelsOf(req.ctx.db, p.id) });
  }),

  'GET /v1/prompts/{promptId}/versions': authorized('prompts', 'read', async (req, caller) => {
    const p = await findPrompt(req, caller);
    const labels = await labelsOf(req.ctx.db, p.id);
    const versions = await listPromptVersions(req.ctx.db, p.id);
    return json(200, listBody(versions.map((v) => present(p, v, labels)), versions.length));
  }),

  'GET /v1/prompts/{promptId}/versions/{versionId}': authorized('prompts', 'read', async (req, caller) => {
    const p = await findPrompt(req, caller);
    const v = await getPromptVersion(req.ctx.db, p.id, req.params.versionId ?? '');
    if (!v) throw notFound(`prompt "${p.slug}" has no version "${req.params.versionId}"`);
    return json(200, present(p, v, await labelsOf(req.ctx.db, p.id)));
  }),

  /** Moves a label (`label_id`: production, staging, latest or a custom one) onto this version. */
  'PUT /v1/prompts/{promptId}/versions/{versionId}': authorized('prompts', 'update', async (req, caller) => {
    const { label_id } = validate(z.object({ label_id: label }), req.body);
    const p = await findPrompt(req, caller);
    const v = await getPromptVersion(req.ctx.db, p.id, req.params.versionId ?? '');
    if (!v) throw notFound(`prompt "${p.slug}" has no version "${req.params.versionId}"`);
    await moveLabel(req, caller, p, label_id, v.version);
    return json(200, { success: true, labels: await labelsOf(req.ctx.db, p.id) });
  }),

  /** Renders with the shared renderer (what the gateway serves), without calling a model. */
  'POST /v1/prompts/{promptId}/render': authorized('prompts', 'render', async (req, caller) => {
    const body = validate(renderBody, req.body);
    const p = await findPrompt(req, caller);
    const v = await selectVersion(req, p, body);
    try {
      const messages = renderPromptMessages(v.messages, body.variables, await partialMap(req.ctx.db, caller.organisationId));
      return json(200, { success: true, data: { messages, model: v.model ?? undefined, ...v.parameters } });
    } catch (err) {
      if (err instanceof MissingVariablesError) throw badRequest(`variables: ${err.message}`);
      throw err;
    }
  }),
};

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/prompts': { body: createBody, summary: 'Create a prompt (version 1)' },
  'PUT /v1/prompts/{promptId}': { body: updateBody, summary: 'Update a prompt (a template change makes a new version)' },
  'GET /v1/prompts/{promptId}': { query: selector, summary: 'Get a prompt at a version or label (default: production)' },
  'POST /v1/prompts/{promptId}/render': { body: renderBody, summary: 'Render a prompt with variables' },
};
