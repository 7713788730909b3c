import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { hashSecret, sameSecret } from '../../core/secrets.js';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/passwords.js';
import { createOrganisation } from '../bootstrap.js';
import { getOrganisation, listOrganisations, updateOrganisation, type OrganisationRow } from '../db/organisations-repo.js';
import { asPlatform, withTenant } from '../db/tenant.js';
import { insertUser } from '../db/users-repo.js';
import type { SqlQueryable } from '../../core/db.js';
import { insertAudit } from '../db/audit-repo.js';
import { origin } from '../http/audit.js';
import { iso } from '../http/authorized.js';
import type { RouteFn, RouteRequest } from '../http/handler.js';
import { listBody, pageOf } from '../http/paging.js';
import { notFound, unauthorized } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { etag, expectedVersion, staleOrMissing } from '../http/versioning.js';
import { rewrapVirtualKeys } from '../rewrap.js';

/** A KMS key ARN (BYOK); aliases are refused because a grant must name the key itself. */
export const kmsKeyArn = z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');

const createBody = z.object({
  name: z.string().trim().min(1).max(255),
  kms_key_arn: kmsKeyArn.optional(),
  owner: z
    .object({
      email: z.string().trim().email().max(320),
      password: z.string().min(MIN_PASSWORD_LENGTH).max(1024).optional(),
      first_name: z.string().max(255).optional(),
      last_name: z.string().max(255).optional(),
    })
    .optional(),
});
const rewrapBody = z.object({
  batch_size: z.number().int().min(1).max(1000).optional(),
  after: z.string().max(200).optional(),
  time_budget_ms: z.number().int().min(100).max(900_000).optional(),
});
const updateBody = z.object({ name: z.string().trim().min(1).max(255).optional(), kms_key_arn: kmsKeyArn.nullable().optional() });

/**
 * The vendor's credential: `TOLLGATE_PLATFORM_ADMIN_KEY`, sent as `Authorization: Bearer <key>` or
 * `x-tollgate-platform-key`. Without the variable the platform API is off (401 for everyone).
 */
function requirePlatformAdmin(req: RouteRequest): void {
  const configured = process.env.TOLLGATE_PLATFORM_ADMIN_KEY;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  const presented = req.headers['x-tollgate-platform-key']?.trim() || bearer;
  if (!configured) throw unauthorized('the platform admin API is disabled (TOLLGATE_PLATFORM_ADMIN_KEY is not set)');
  if (!presented || !sameSecret(hashSecret(presented), hashSecret(configured))) throw unauthorized('invalid platform admin key');
}

function present(o: OrganisationRow) {
  return { object: 'organisation', id: o.id, name: o.name, kms_key_arn: o.kms_key_arn, version: o.version, created_at: iso(o.created_at), last_updated_at: iso(o.updated_at) };
}

function platformAudit(db: SqlQueryable, req: RouteRequest, orgId: string, action: string, status: number) {
  return insertAudit(db, orgId, { ...origin(req), workspaceId: null, actorType: 'platform', actorId: null, action, resourceType: 'organisations', resourceId: orgId, status });
}

const platform = (fn: RouteFn): RouteFn => async (req) => {
  requirePlatformAdmin(req);
  return fn(req);
};

export const platformRoutes: Record<string, RouteFn> = {
  /** Onboards a customer: the org, its default workspace, an org admin key, a data-plane credential and (optionally) its owner. */
  'POST /v1/platform/organisations': platform(async (req) => {
    const body = validate(createBody, req.body);
    const creds = await createOrganisation(req.ctx.db, body.name);
    const passwordHash = body.owner?.password ? await hashPassword(body.owner.password) : null;
    const owner = await withTenant(req.ctx.db, creds.organisationId, async (db) => {
      await platformAudit(db, req, creds.organisationId, 'organisations.create', 201);
      if (body.kms_key_arn) await updateOrganisation(db, creds.organisationId, { kmsKeyArn: body.kms_key_arn });
      if (!body.owner) return null;
      return insertUser(db, creds.organisationId, { email: body.owner.email, role: 'owner', firstName: body.owner.first_name, lastName: body.owner.last_name, passwordHash });
    });
    return json(201, {
      object: 'organisation',
      id: creds.organisationId,
      name: body.name,
      kms_key_arn: body.kms_key_arn ?? null,
      default_workspace_id: creds.defaultWorkspaceId,
      // Shown once: the database keeps only hashes.
      admin_api_key: creds.adminApiKey,
      data_plane_token: creds.dataPlaneToken,
      owner: owner ? { id: owner.id, email: owner.email, role: owner.role } : null,
    });
  }),

  'GET /v1/platform/organisations': platform(async (req) => {
    const page = pageOf(req.query);
    const { rows, total } = await asPlatform(req.ctx.db, (tx) => listOrganisations(tx, page.limit, page.offset));
    return json(200, listBody(rows.map(present), total, page));
  }),

  'GET /v1/platform/organisations/{organisationId}': platform(async (req) => {
    const org = await asPlatform(req.ctx.db, (tx) => getOrganisation(tx, req.params.organisationId ?? ''));
    if (!org) throw notFound(`organisation "${req.params.organisationId}" not found`);
    return json(200, present(org), etag(org.version));
  }),

  'PUT /v1/platform/organisations/{organisationId}': platform(async (req) => {
    const body = validate(updateBody, req.body);
    const expected = expectedVersion(req.headers, req.body);
    const id = req.params.organisationId ?? '';
    const updated = await asPlatform(req.ctx.db, async (tx) => {
      const row = await updateOrganisation(tx, id, { name: body.name, kmsKeyArn: body.kms_key_arn }, expected);
      if (!row) staleOrMissing('organisation', id, Boolean(await getOrganisation(tx, id)));
      await tx.query('UPDATE organisations SET revision = revision + 1 WHERE id = $1', [id]);
      return row;
    });
    await withTenant(req.ctx.db, id, (db) => platformAudit(db, req, id, 'organisations.update', 200));
    return json(200, present(updated), etag(updated.version));
  }),

  /**
   * Key rotation: re-wraps every virtual-key secret of the org under the current key (rewrap.ts).
   * Run it after the new key is current on the control plane and known to every gateway.
   */
  'POST /v1/platform/organisations/{organisationId}/virtual-keys/rewrap': platform(async (req) => {
    const body = validate(rewrapBody, req.body ?? {});
    const id = req.params.organisationId ?? '';
    const org = await asPlatform(req.ctx.db, (tx) => getOrganisation(tx, id));
    if (!org) throw notFound(`organisation "${id}" not found`);
    const result = await rewrapVirtualKeys(req.ctx, id, { batchSize: body.batch_size, after: body.after, timeBudgetMs: body.time_budget_ms });
    await withTenant(req.ctx.db, id, (db) => platformAudit(db, req, id, 'virtual_keys.rewrap', 200));
    return json(200, { object: 'virtual-key-rewrap', organisation_id: id, ...result });
  }),
};

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/platform/organisations': { body: createBody, summary: 'Onboard an organisation (platform admin)' },
  'PUT /v1/platform/organisations/{organisationId}': { body: updateBody, summary: 'Rename an organisation or set its BYOK key' },
  'POST /v1/platform/organisations/{organisationId}/virtual-keys/rewrap': { body: rewrapBody, summary: 'Re-wrap the org\'s virtual-key secrets under the current key (key rotation)' },
};
