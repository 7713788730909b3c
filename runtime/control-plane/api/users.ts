import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { mutateOrg } from '../db/revision.js';
import { revokeUserSessions } from '../db/sessions-repo.js';
import { countOwners, deleteUser, getUser, listUsers, membersOfUsers, updateUser, userWorkspaceRoles, type UserRow } from '../db/users-repo.js';
import type { Caller } from '../http/auth.js';
import { authorized, iso } from '../http/authorized.js';
import type { RouteFn, RouteRequest } from '../http/handler.js';
import { pageOf, listBody } from '../http/paging.js';
import { conflict, forbidden, notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { etag, expectedVersion, staleOrMissing } from '../http/versioning.js';
import { ORG_ROLES } from '../roles.js';

const updateBody = z.object({
  role: z.enum(ORG_ROLES as [string, ...string[]]).optional(),
  first_name: z.string().max(255).nullable().optional(),
  last_name: z.string().max(255).nullable().optional(),
});
const filters = z.object({ email: z.string().optional(), role: z.enum(ORG_ROLES as [string, ...string[]]).optional() });

export async function presentUser(req: RouteRequest, u: UserRow, workspaceIds?: string[]) {
  const ids = workspaceIds ?? (await userWorkspaceRoles(req.ctx.db, u.id)).map((r) => r.workspace_id);
  return {
    object: 'user',
    id: u.id,
    email: u.email,
    first_name: u.first_name,
    last_name: u.last_name,
    role: u.role,
    status: u.status,
    version: u.version,
    workspace_ids: ids,
    created_at: iso(u.created_at),
    last_updated_at: iso(u.updated_at),
  };
}

async function findUser(req: RouteRequest, caller: Caller): Promise<UserRow> {
  const id = req.params.userId ?? '';
  const u = await getUser(req.ctx.db, caller.organisationId, id);
  if (!u) throw notFound(`user "${id}" not found`);
  return u;
}

/** Only an owner may make, change or remove an owner; the last owner stays. */
export function assertOwnerChange(caller: Caller, from: string | null, to: string | null): void {
  if ((from === 'owner' || to === 'owner') && caller.kind === 'user' && caller.orgRole !== 'owner') {
    throw forbidden('only an organisation owner can grant, change or remove the owner role');
  }
}

export const userRoutes: Record<string, RouteFn> = {
  'GET /v1/admin/users': authorized('organisation_users', 'list', async (req, caller) => {
    const page = pageOf(req.query);
    const f = validate(filters, req.query);
    const { rows, total } = await listUsers(req.ctx.db, caller.organisationId, f, page.limit, page.offset);
    // One membership query for the page, not one per user (bench/control-plane-lists.ts).
    const members = await membersOfUsers(req.ctx.db, rows.map((u) => u.id));
    return json(200, listBody(await Promise.all(rows.map((u) => presentUser(req, u, members.get(u.id) ?? []))), total, page));
  }),

  'GET /v1/admin/users/{userId}': authorized('organisation_users', 'read', async (req, caller) => {
    const u = await findUser(req, caller);
    return json(200, await presentUser(req, u), etag(u.version));
  }),

  'PUT /v1/admin/users/{userId}': authorized('organisation_users', 'update', async (req, caller) => {
    const body = validate(updateBody, req.body);
    const expected = expectedVersion(req.headers, req.body);
    const u = await findUser(req, caller);
    if (body.role && body.role !== u.role) assertOwnerChange(caller, u.role, body.role);
    const updated = await mutateOrg(req.ctx.db, caller.organisationId, async (tx) => {
      const row = await updateUser(tx, caller.organisationId, u.id, { role: body.role as UserRow['role'] | undefined, firstName: body.first_name, lastName: body.last_name }, expected);
      if (row && u.role === 'owner' && row.role !== 'owner' && (await countOwners(tx, caller.organisationId)) === 0) {
        throw conflict('the organisation must keep at least one owner');
      }
      // A new role signs the user out everywhere, so no browser keeps acting on what they were shown before.
      if (row && row.role !== u.role) await revokeUserSessions(tx, u.id);
      return row;
    });
    if (!updated) staleOrMissing('user', u.id, true);
    return json(200, await presentUser(req, updated), etag(updated.version));
  }),

  'DELETE /v1/admin/users/{userId}': authorized('organisation_users', 'delete', async (req, caller) => {
    const u = await findUser(req, caller);
    assertOwnerChange(caller, u.role, null);
    await mutateOrg(req.ctx.db, caller.organisationId, async (tx) => {
      await deleteUser(tx, caller.organisationId, u.id);
      if (u.role === 'owner' && (await countOwners(tx, caller.organisationId)) === 0) throw conflict('the organisation must keep at least one owner');
    });
    return json(200, { success: true });
  }),
};

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'PUT /v1/admin/users/{userId}': { body: updateBody, summary: "Change a user's organisation role or name" },
  'GET /v1/admin/users': { query: filters, summary: 'List users' },
};
