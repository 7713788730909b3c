import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { hashSecret, newSecret } from '../../core/secrets.js';
import { deleteInvite, getInvite, insertInvite, listInvites, setInviteStatus, type InviteRow } from '../db/invites-repo.js';
import { mutateOrg } from '../db/revision.js';
import { findWorkspace } from '../db/workspaces-repo.js';
import type { Caller } from '../http/auth.js';
import { authorized, iso } from '../http/authorized.js';
import type { RouteFn, RouteRequest } from '../http/handler.js';
import { listBody, pageOf } from '../http/paging.js';
import { badRequest, conflict, notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { ORG_ROLES, WORKSPACE_ROLES } from '../roles.js';
import { assertOwnerChange } from './users.js';

export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;
const createBody = z.object({
  email: z.string().trim().email().max(320),
  role: z.enum(ORG_ROLES as [string, ...string[]]).default('member'),
  workspaces: z.array(z.object({ id: z.string().min(1), role: z.enum(WORKSPACE_ROLES as [string, ...string[]]).default('member') })).max(100).default([]),
  workspace_api_key_details: z.record(z.string(), z.unknown()).optional(),
});
const filters = z.object({
  email: z.string().optional(),
  role: z.enum(ORG_ROLES as [string, ...string[]]).optional(),
  status: z.enum(['pending', 'accepted', 'expired', 'cancelled']).optional(),
});

function status(i: InviteRow): string {
  return i.status === 'pending' && new Date(i.expires_at).getTime() <= Date.now() ? 'expired' : i.status;
}

function present(i: InviteRow) {
  return {
    object: 'invite',
    id: i.id,
    email: i.email,
    role: i.role,
    workspaces: i.workspaces,
    status: status(i),
    invited_by: i.invited_by,
    created_at: iso(i.created_at),
    expires_at: iso(i.expires_at),
    accepted_at: iso(i.accepted_at),
  };
}

/** The UI page that accepts the invite; the token is shown only here, once per (re)send. */
function inviteLink(req: RouteRequest, token: string): string {
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
  const proto = req.headers['x-forwarded-proto'] ?? (req.ctx.devMode ? 'http' : 'https');
  return `${proto}://${host}/invite?token=${encodeURIComponent(token)}`;
}

async function findInvite(req: RouteRequest, caller: Caller): Promise<InviteRow> {
  const id = req.params.inviteId ?? '';
  const found = await getInvite(req.ctx.db, caller.organisationId, id);
  if (!found) throw notFound(`invite "${id}" not found`);
  return found;
}

export const inviteRoutes: Record<string, RouteFn> = {
  'POST /v1/admin/users/invites': authorized('organisation_users', 'create', async (req, caller) => {
    const body = validate(createBody, req.body);
    assertOwnerChange(caller, null, body.role);
    for (const [i, w] of body.workspaces.entries()) {
      const ws = await findWorkspace(req.ctx.db, caller.organisationId, w.id);
      if (!ws) throw badRequest(`workspaces.${i}.id: no workspace "${w.id}" in this organisation`);
      w.id = ws.id;
    }
    const token = newSecret('tginv-');
    const invite = await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      insertInvite(tx, caller.organisationId, {
        email: body.email,
        role: body.role as InviteRow['role'],
        workspaces: body.workspaces as InviteRow['workspaces'],
        tokenHash: hashSecret(token),
        invitedBy: caller.userId ?? caller.apiKeyId,
        expiresAt: new Date(Date.now() + INVITE_TTL_MS),
      }),
    );
    return json(200, { id: invite.id, invite_link: inviteLink(req, token), object: 'invite' });
  }),

  'GET /v1/admin/users/invites': authorized('organisation_users', 'list', async (req, caller) => {
    const page = pageOf(req.query);
    const { rows, total } = await listInvites(req.ctx.db, caller.organisationId, validate(filters, req.query), page.limit, page.offset);
    return json(200, listBody(rows.map(present), total, page));
  }),

  'GET /v1/admin/users/invites/{inviteId}': authorized('organisation_users', 'read', async (req, caller) => json(200, present(await findInvite(req, caller)))),

  'DELETE /v1/admin/users/invites/{inviteId}': authorized('organisation_users', 'delete', async (req, caller) => {
    const invite = await findInvite(req, caller);
    await mutateOrg(req.ctx.db, caller.organisationId, (tx) => deleteInvite(tx, caller.organisationId, invite.id));
    return json(200, { success: true });
  }),

  /** A new token and expiry; the old link stops working. */
  'POST /v1/admin/users/invites/{inviteId}/resend': authorized('organisation_users', 'create', async (req, caller) => {
    const invite = await findInvite(req, caller);
    if (invite.status !== 'pending') throw conflict(`invite is ${invite.status}`);
    const token = newSecret('tginv-');
    await mutateOrg(req.ctx.db, caller.organisationId, (tx) =>
      setInviteStatus(tx, caller.organisationId, invite.id, 'pending', hashSecret(token), new Date(Date.now() + INVITE_TTL_MS)),
    );
    return json(200, { id: invite.id, invite_link: inviteLink(req, token), object: 'invite' });
  }),
};

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/admin/users/invites': { body: createBody, summary: 'Invite a user' },
  'GET /v1/admin/users/invites': { query: filters, summary: 'List invites' },
};
