import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { hashSecret } from '../../core/secrets.js';
import { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from '../auth/passwords.js';
import { issueSession } from '../auth/issue-session.js';
import { clearedSessionCookie, SESSION_COOKIE, sessionCookie, verifySession } from '../auth/session.js';
import { insertAudit } from '../db/audit-repo.js';
import { findInviteByToken, setInviteStatus } from '../db/invites-repo.js';
import { upsertMember } from '../db/members-repo.js';
import { mutateOrg } from '../db/revision.js';
import { setTenant, withAppRole } from '../db/tenant.js';
import { revokeSession, revokeUserSessions } from '../db/sessions-repo.js';
import { findUsersByEmail, insertUser, updateUser, type UserRow } from '../db/users-repo.js';
import { origin } from '../http/audit.js';
import { authenticate } from '../http/auth.js';
import type { RouteFn, RouteRequest } from '../http/handler.js';
import { badRequest, conflict, HttpProblemTooMany, unauthorized } from '../http/problems.js';
import { json } from '../http/response.js';
import { readCookie, sessionCaller } from '../http/session-auth.js';
import { validate } from '../http/validate.js';
import { presentUser } from './users.js';
import type { SqlQueryable } from '../../core/db.js';

export const LOGIN_MAX_ATTEMPTS = 10;
export const LOGIN_WINDOW_SECONDS = 15 * 60;

const loginBody = z.object({ email: z.string().trim().email().max(320), password: z.string().min(1).max(1024), organisation_id: z.string().optional() });
const passwordBody = z.object({ current_password: z.string().min(1).max(1024), new_password: z.string().min(MIN_PASSWORD_LENGTH).max(1024) });
const acceptBody = z.object({ token: z.string().min(10).max(200), password: z.string().min(MIN_PASSWORD_LENGTH).max(1024), first_name: z.string().max(255).optional(), last_name: z.string().max(255).optional() });

/** Sets the session cookie and answers with who signed in. */
export async function startSession(req: RouteRequest, tx: SqlQueryable, user: UserRow, method: string) {
  await setTenant(tx, user.organisation_id);
  await insertAudit(tx, user.organisation_id, { ...origin(req), workspaceId: null, actorType: 'user', actorId: user.id, action: `auth.${method}`, resourceType: 'auth', resourceId: user.id, status: 200 });
  const { token } = await issueSession(tx, user, method, origin(req));
  const res = json(200, { object: 'session', user: { id: user.id, email: user.email, role: user.role, organisation_id: user.organisation_id } });
  return { ...res, cookies: [sessionCookie(token, req.ctx.devMode)] };
}

export const authRoutes: Record<string, RouteFn> = {
  /** Email + password. Rate-limited per email and source IP; one answer for every failure. */
  'POST /v1/auth/login': async (req) => {
    const body = validate(loginBody, req.body);
    const key = hashSecret(`${body.email.toLowerCase()}|${origin(req).sourceIp ?? ''}`);
    // Counted in its own transaction, so a failed attempt (which rolls the login back) still counts.
    const allowed = await withAppRole(req.ctx.db, async (tx) =>
      (await tx.query<{ ok: boolean }>('SELECT tollgate_login_attempt($1, $2, $3) AS ok', [key, LOGIN_MAX_ATTEMPTS, LOGIN_WINDOW_SECONDS])).rows[0]?.ok,
    );
    if (!allowed) throw new HttpProblemTooMany('too many sign-in attempts; try again later', LOGIN_WINDOW_SECONDS);
    return withAppRole(req.ctx.db, async (tx) => {
      const candidates = (await findUsersByEmail(tx, body.email)).filter((u) => !body.organisation_id || u.organisation_id === body.organisation_id);
      const matching: UserRow[] = [];
      for (const u of candidates) if (await verifyPassword(u.password_hash, body.password)) matching.push(u);
      if (!candidates.length) await verifyPassword(null, body.password);
      if (!matching.length) throw unauthorized('invalid email or password');
      if (matching.length > 1) throw badRequest('organisation_id: this email belongs to several organisations; name one');
      await tx.query('SELECT tollgate_login_reset($1)', [key]);
      return startSession(req, tx, matching[0], 'password');
    });
  },

  /** Revokes the session server-side (the cookie stops working even if kept), then clears it. */
  'POST /v1/auth/logout': (req) =>
    withAppRole(req.ctx.db, async (tx) => {
      const token = readCookie(req.headers, SESSION_COOKIE);
      const claims = token ? await verifySession(token) : undefined;
      if (claims) {
        await setTenant(tx, claims.organisationId);
        if (await revokeSession(tx, claims.sessionId)) {
          await insertAudit(tx, claims.organisationId, { ...origin(req), workspaceId: null, actorType: 'user', actorId: claims.userId, action: 'auth.logout', resourceType: 'auth', resourceId: claims.userId, status: 200 });
        }
      }
      return { ...json(200, { success: true }), cookies: [clearedSessionCookie(req.ctx.devMode)] };
    }),

  /**
   * The signed-in user changes their password: every other session of theirs ends, this browser gets
   * a fresh one. Wrong guesses count against the sign-in rate limit (answered, not thrown, so the
   * count commits).
   */
  'POST /v1/auth/password': (req) =>
    withAppRole(req.ctx.db, async (tx) => {
      const caller = await sessionCaller(tx, { cookie: req.headers.cookie });
      if (!caller?.userId) throw unauthorized('not signed in');
      const body = validate(passwordBody, req.body);
      const { rows } = await tx.query<UserRow>('SELECT * FROM users WHERE id = $1', [caller.userId]);
      const user = rows[0];
      const key = hashSecret(`${user.email.toLowerCase()}|${origin(req).sourceIp ?? ''}`);
      const allowed = (await tx.query<{ ok: boolean }>('SELECT tollgate_login_attempt($1, $2, $3) AS ok', [key, LOGIN_MAX_ATTEMPTS, LOGIN_WINDOW_SECONDS])).rows[0]?.ok;
      if (!allowed) throw new HttpProblemTooMany('too many attempts; try again later', LOGIN_WINDOW_SECONDS);
      if (!(await verifyPassword(user.password_hash, body.current_password))) return json(401, { status: 'failure', message: 'current_password: wrong password' });
      await tx.query('SELECT tollgate_login_reset($1)', [key]);
      await updateUser(tx, user.organisation_id, user.id, { passwordHash: await hashPassword(body.new_password) });
      await revokeUserSessions(tx, user.id);
      await insertAudit(tx, user.organisation_id, { ...origin(req), workspaceId: null, actorType: 'user', actorId: user.id, action: 'auth.password_change', resourceType: 'user', resourceId: user.id, status: 200 });
      const { token } = await issueSession(tx, user, 'password', origin(req));
      return { ...json(200, { success: true }), cookies: [sessionCookie(token, req.ctx.devMode)] };
    }),

  /** The signed-in user (session cookie) with their organisation role and workspace roles. */
  'GET /v1/auth/me': (req) =>
    withAppRole(req.ctx.db, async (tx, scoped) => {
      const caller = await authenticate(tx, { cookie: req.headers.cookie });
      if (caller.kind !== 'user' || !caller.userId) throw unauthorized('not signed in');
      const { rows } = await tx.query<UserRow>('SELECT * FROM users WHERE id = $1', [caller.userId]);
      const workspaces = caller.workspaceScopes ? [...caller.workspaceScopes.keys()] : null;
      return json(200, { ...(await presentUser({ ...req, ctx: { ...req.ctx, db: scoped } }, rows[0])), organisation_id: caller.organisationId, all_workspaces: workspaces === null });
    }),

  /** Accepts an invite: creates the user with the invite's roles and signs them in. */
  'POST /v1/auth/invites/accept': (req) =>
    withAppRole(req.ctx.db, async (tx, scoped) => {
      const body = validate(acceptBody, req.body);
      const invite = await findInviteByToken(tx, hashSecret(body.token));
      if (!invite || invite.status !== 'pending' || new Date(invite.expires_at).getTime() <= Date.now()) throw unauthorized('invalid or expired invite');
      await setTenant(tx, invite.organisation_id);
      const passwordHash = await hashPassword(body.password);
      const user = await mutateOrg(scoped, invite.organisation_id, async (t) => {
        const existing = await t.query('SELECT id FROM users WHERE organisation_id = $1 AND email = $2', [invite.organisation_id, invite.email]);
        if (existing.rows.length) throw conflict('a user with this email already exists in the organisation');
        const u = await insertUser(t, invite.organisation_id, { email: invite.email, role: invite.role, firstName: body.first_name, lastName: body.last_name, passwordHash });
        for (const w of invite.workspaces) await upsertMember(t, invite.organisation_id, w.id, u.id, w.role);
        await setInviteStatus(t, invite.organisation_id, invite.id, 'accepted');
        return u;
      });
      return startSession(req, tx, user, 'invite');
    }),
};

/** The schemas above, for the OpenAPI document (openapi/document.ts). */
export const openapi: OpenApiSchemas = {
  'POST /v1/auth/login': { body: loginBody, summary: 'Sign in with email and password (sets the session cookie)' },
  'POST /v1/auth/invites/accept': { body: acceptBody, summary: 'Accept an invite and sign in' },
  'POST /v1/auth/password': { body: passwordBody, summary: 'Change your password (ends your other sessions)' },
};
