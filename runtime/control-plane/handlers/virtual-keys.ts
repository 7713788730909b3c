import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { virtualKeyContext } from '../../core/keyring.js';
import { maskSecret } from '../../core/secrets.js';
import { mutateOrg } from '../db/revision.js';
import {
  deleteVirtualKey,
  getVirtualKey,
  insertVirtualKey,
  listVirtualKeys,
  updateVirtualKey,
  type VirtualKeyRow,
} from '../db/virtual-keys-repo.js';
import { resolveWorkspace, visibleTo, workspaceFilter, type Caller } from '../http/auth.js';
import { authorized, iso } from '../http/authorized.js';
import { controlPlaneHandler, type RouteRequest } from '../http/handler.js';
import { notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { listBody, pageOf } from '../http/paging.js';
import { etag, expectedVersion, staleOrMissing } from '../http/versioning.js';
import { makeSlug } from '../slugs.js';
import { sealingKeyring } from '../byok.js';

const nullableString = z.string().max(1000).nullable().optional();
/** Non-secret provider options. The SDK snake-cases Portkey's camelCase fields (apiVersion -> api_version). */
const optionFields = {
  custom_host: z.string().url().nullable().optional(),
  api_version: nullableString,
  resource_name: nullableString,
  deployment_name: nullableString,
  deployment_config: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
  aws_region: nullableString,
  // Bedrock through an assumed role (Portkey's fields): kept and synced with the key's options.
  aws_role_arn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'expected an IAM role ARN').nullable().optional(),
  aws_external_id: nullableString,
  vertex_project_id: nullableString,
  vertex_region: nullableString,
};
const limits = {
  usage_limits: z.record(z.string(), z.unknown()).nullable().optional(),
  rate_limits: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
};
const createBody = z.object({
  name: z.string().trim().min(1).max(255),
  provider: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,63}$/, 'expected a provider id such as "openai" or "anthropic"'),
  key: z.string().min(1).max(16_384),
  note: nullableString,
  workspace_id: z.string().optional(),
  ...optionFields,
  ...limits,
});
const updateBody = z.object({
  name: z.string().trim().min(1).max(255).optional(),
  key: z.string().min(1).max(16_384).optional(),
  note: nullableString,
  status: z.enum(['active', 'exhausted', 'revoked']).optional(),
  ...optionFields,
  ...limits,
});

/** Options under the names gateway config targets use, so the gateway can merge them directly. */
function providerOptions(body: Partial<Record<keyof typeof optionFields, unknown>>, base: Record<string, unknown> = {}) {
  const names: Record<keyof typeof optionFields, string> = {
    custom_host: 'custom_host',
    api_version: 'azure_api_version',
    resource_name: 'azure_resource_name',
    deployment_name: 'azure_deployment_id',
    deployment_config: 'deployment_config',
    aws_region: 'aws_region',
    aws_role_arn: 'aws_role_arn',
    aws_external_id: 'aws_external_id',
    vertex_project_id: 'vertex_project_id',
    vertex_region: 'vertex_region',
  };
  const out = { ...base };
  for (const [field, target] of Object.entries(names)) {
    const value = body[field as keyof typeof optionFields];
    if (value === null) delete out[target];
    else if (value !== undefined) out[target] = value;
  }
  return out;
}

/** Never the secret: only its mask. */
function present(v: VirtualKeyRow) {
  return {
    id: v.id,
    slug: v.slug,
    name: v.name,
    provider: v.provider,
    ai_provider_name: v.provider,
    masked_api_key: v.masked_key,
    note: v.note,
    status: v.status,
    version: v.version,
    workspace_id: v.workspace_id,
    model_config: v.options,
    usage_limits: v.usage_limits,
    rate_limits: v.rate_limits,
    created_at: iso(v.created_at),
    last_updated_at: iso(v.updated_at),
    object: 'virtual-key',
  };
}

async function findVisible(req: RouteRequest, caller: Caller): Promise<VirtualKeyRow> {
  const slug = req.params.slug ?? '';
  const found = await getVirtualKey(req.ctx.db, caller.organisationId, slug);
  if (!found || !visibleTo(caller, found.workspace_id)) throw notFound(`virtual key "${slug}" not found`);
  return found;
}

export const handler = controlPlaneHandler('virtual-keys', {
  'GET /v1/virtual-keys': authorized('virtual_keys', 'list', async (req, caller) => {
    const workspaceId = await workspaceFilter(req.ctx.db, caller, req.query.workspace_id);
    const page = pageOf(req.query);
    const { rows, total } = await listVirtualKeys(req.ctx.db, caller.organisationId, workspaceId, page.limit, page.offset);
    return json(200, listBody(rows.map(present), total, page));
  }),

  'POST /v1/virtual-keys': authorized('virtual_keys', 'create', async (req, caller) => {
    const body = validate(createBody, req.body);
    const ws = await resolveWorkspace(req.ctx.db, caller, body.workspace_id);
    const slug = makeSlug(body.name);
    // Sealed before the transaction: a KMS round trip should not hold the org's row lock.
    const keyring = await sealingKeyring(req.ctx, req.ctx.db, caller.organisationId);
    const encryptedKey = await keyring.encrypt(body.key, virtualKeyContext(caller.organisationId, ws.id, slug));
    const created = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      insertVirtualKey(tx, caller.organisationId, {
        workspaceId: ws.id,
        slug,
        name: body.name,
        provider: body.provider,
        encryptedKey,
        maskedKey: maskSecret(body.key),
        note: body.note,
        options: providerOptions(body),
        usageLimits: body.usage_limits,
        rateLimits: body.rate_limits,
      }),
    );
    const ids = { id: created.id, slug: created.slug };
    return json(200, { success: true, data: ids, ...ids, object: 'virtual-key' });
  }),

  'GET /v1/virtual-keys/{slug}': authorized('virtual_keys', 'read', async (req, caller) => {
    const vk = await findVisible(req, caller);
    return json(200, present(vk), etag(vk.version));
  }),

  'PUT /v1/virtual-keys/{slug}': authorized('virtual_keys', 'update', async (req, caller) => {
    const body = validate(updateBody, req.body);
    const expected = expectedVersion(req.headers, req.body);
    const existing = await findVisible(req, caller);
    const encryptedKey =
      body.key === undefined
        ? undefined
        : await (await sealingKeyring(req.ctx, req.ctx.db, caller.organisationId)).encrypt(
            body.key,
            virtualKeyContext(caller.organisationId, existing.workspace_id, existing.slug),
          );
    const updated = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      updateVirtualKey(tx, caller.organisationId, existing.slug, {
        name: body.name,
        note: body.note,
        encryptedKey,
        maskedKey: body.key === undefined ? undefined : maskSecret(body.key),
        options: providerOptions(body, existing.options),
        usageLimits: body.usage_limits,
        rateLimits: body.rate_limits,
        status: body.status,
      }, expected),
    );
    if (!updated) staleOrMissing('virtual key', existing.slug, Boolean(await getVirtualKey(req.ctx.db, caller.organisationId, existing.slug)));
    const ids = { id: updated.id, slug: updated.slug, version: updated.version };
    return json(200, { success: true, data: ids, ...ids, object: 'virtual-key' }, etag(updated.version));
  }),

  'DELETE /v1/virtual-keys/{slug}': authorized('virtual_keys', 'delete', async (req, caller) => {
    const existing = await findVisible(req, caller);
    const deleted = await mutateOrg(req.ctx.db, caller.organisationId, (tx) => deleteVirtualKey(tx, caller.organisationId, existing.slug));
    if (!deleted) throw notFound(`virtual key "${existing.slug}" not found`);
    return json(200, { success: true });
  }),
});

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/virtual-keys': { body: createBody, summary: 'Store a provider secret (encrypted)' },
  'PUT /v1/virtual-keys/{slug}': { body: updateBody, summary: 'Update or rotate a virtual key' },
};
