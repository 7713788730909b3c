import type { SqlQueryable } from '../../core/db.js';
import { verifySession, SESSION_COOKIE } from '../auth/session.js';
import { sessionIsLive } from '../db/sessions-repo.js';
import { findUserById, userWorkspaceRoles, type UserRow } from '../db/users-repo.js';
import { setTenant } from '../db/tenant.js';
import { ORG_ROLE_SCOPES, WORKSPACE_ROLE_SCOPES } from '../roles.js';
import type { Caller } from './auth.js';
import { unauthorized } from './problems.js';

export function readCookie(headers: Record<string, string | undefined>, name: string): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** A signed-in user as a caller: org role scopes org-wide; for members, workspace role scopes per workspace. */
export async function userCaller(tx: SqlQueryable, user: UserRow): Promise<Caller> {
  await setTenant(tx, user.organisation_id);
  const orgWide = user.role === 'owner' || user.role === 'admin';
  const workspaceScopes = orgWide
    ? null
    : new Map((await userWorkspaceRoles(tx, user.id)).map((m) => [m.workspace_id, WORKSPACE_ROLE_SCOPES[m.role]] as const));
  return {
    kind: 'user',
    organisationId: user.organisation_id,
    apiKeyId: null,
    userId: user.id,
    orgRole: user.role,
    scope: orgWide ? 'organisation' : 'workspace',
    workspaceId: null,
    scopes: ORG_ROLE_SCOPES[user.role],
    workspaceScopes,
    required: '',
  };
}

/** The caller behind a session cookie, if one was sent; an invalid or stale session is a 401. */
export async function sessionCaller(tx: SqlQueryable, headers: Record<string, string | undefined>): Promise<(Caller & { sessionId: string }) | undefined> {
  const token = readCookie(headers, SESSION_COOKIE);
  if (!token) return undefined;
  const claims = await verifySession(token);
  if (!claims) throw unauthorized('invalid or expired session: sign in again');
  // The signature proves the org; the row proves the session was not signed out or revoked since.
  await setTenant(tx, claims.organisationId);
  if (!(await sessionIsLive(tx, claims.sessionId, claims.userId))) throw unauthorized('invalid or expired session: sign in again');
  const user = await findUserById(tx, claims.userId);
  if (!user || user.status !== 'active' || user.organisation_id !== claims.organisationId) {
    throw unauthorized('invalid or expired session: sign in again');
  }
  return { ...(await userCaller(tx, user)), sessionId: claims.sessionId };
}
