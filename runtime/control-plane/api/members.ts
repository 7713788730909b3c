import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { deleteMember, getMember, listMembers, upsertMember, type MemberWithUser } from '../db/members-repo.js';
import { mutateOrg } from '../db/revision.js';
import { getUser } from '../db/users-repo.js';
import { findWorkspace, type WorkspaceRow } from '../db/workspaces-repo.js';
import { assertWorkspaceAccess, visibleTo, type Caller } from '../http/auth.js';
import { authorized, iso } from '../http/authorized.js';
import type { RouteFn, RouteRequest } from '../http/handler.js';
import { listBody, pageOf } from '../http/paging.js';
import { badRequest, notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { WORKSPACE_ROLES, WORKSPACE_ROLE_SCOPES, type WorkspaceRole } from '../roles.js';

const role = z.enum(WORKSPACE_ROLES as [string, ...string[]]);
const addBody = z.object({ users: z.array(z.object({ id: z.string().min(1), role: role.default('member') })).min(1).max(100) });
const updateBody = z.object({ role });
const filters = z.object({ email: z.string().optional(), role: role.optional() });

function present(m: MemberWithUser) {
  return {
    object: 'workspace-user',
    id: m.user_id,
    user_id: m.user_id,
    email: m.email,
    first_name: m.first_name,
    last_name: m.last_name,
    org_role: m.org_role,
    role: m.role,
    status: m.user_status,
    workspace_id: m.workspace_id,
    scopes: [...WORKSPACE_ROLE_SCOPES[m.role]],
    settings: null,
    created_at: iso(m.created_at),
    last_updated_at: iso(m.updated_at),
  };
}

async function workspaceOf(req: RouteRequest, caller: Caller): Promise<WorkspaceRow> {
  const ref = req.params.workspaceId ?? '';
  const ws = await findWorkspace(req.ctx.db, caller.organisationId, ref);
  if (!ws || !visibleTo(caller, ws.id)) throw notFound(`workspace "${ref}" not found`);
  return ws;
}

async function memberOf(req: RouteRequest, ws: WorkspaceRow): Promise<MemberWithUser> {
  const userId = req.params.userId ?? '';
  const m = await getMember(req.ctx.db, ws.id, userId);
  if (!m) throw notFound(`user "${userId}" is not a member of workspace "${ws.slug}"`);
  return m;
}

export const memberRoutes: Record<string, RouteFn> = {
  'POST /v1/admin/workspaces/{workspaceId}/users': authorized('workspace_users', 'create', async (req, caller) => {
    const body = validate(addBody, req.body);
    const ws = await workspaceOf(req, caller);
    assertWorkspaceAccess(caller, ws.id);
    for (const [i, u] of body.users.entries()) {
      if (!(await getUser(req.ctx.db, caller.organisationId, u.id))) throw badRequest(`users.${i}.id: no user "${u.id}" in this organisation`);
    }
    await mutateOrg(req.ctx.db, caller.organisationId, async (tx) => {
      for (const u of body.users) await upsertMember(tx, caller.organisationId, ws.id, u.id, u.role as WorkspaceRole);
    });
    return json(200, { success: true });
  }),

  'GET /v1/admin/workspaces/{workspaceId}/users': authorized('workspace_users', 'list', async (req, caller) => {
    const ws = await workspaceOf(req, caller);
    const page = pageOf(req.query);
    const { rows, total } = await listMembers(req.ctx.db, ws.id, validate(filters, req.query), page.limit, page.offset);
    return json(200, listBody(rows.map(present), total, page));
  }),

  'GET /v1/admin/workspaces/{workspaceId}/users/{userId}': authorized('workspace_users', 'read', async (req, caller) =>
    json(200, present(await memberOf(req, await workspaceOf(req, caller)))),
  ),

  'PUT /v1/admin/workspaces/{workspaceId}/users/{userId}': authorized('workspace_users', 'update', async (req, caller) => {
    const body = validate(updateBody, req.body);
    const ws = await workspaceOf(req, caller);
    const m = await memberOf(req, ws);
    await mutateOrg(req.ctx.db, caller.organisationId, (tx) => upsertMember(tx, caller.organisationId, ws.id, m.user_id, body.role as WorkspaceRole));
    return json(200, present((await getMember(req.ctx.db, ws.id, m.user_id))!));
  }),

  'DELETE /v1/admin/workspaces/{workspaceId}/users/{userId}': authorized('workspace_users', 'delete', async (req, caller) => {
    const ws = await workspaceOf(req, caller);
    const m = await memberOf(req, ws);
    await mutateOrg(req.ctx.db, caller.organisationId, (tx) => deleteMember(tx, ws.id, m.user_id));
    return json(200, { success: true });
  }),
};

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/admin/workspaces/{workspaceId}/users': { body: addBody, summary: 'Add workspace members' },
  'PUT /v1/admin/workspaces/{workspaceId}/users/{userId}': { body: updateBody, summary: "Change a member's workspace role" },
  'GET /v1/admin/workspaces/{workspaceId}/users': { query: filters, summary: 'List workspace members' },
};
