import { hashSecret } from '../../core/secrets.js';
import type { SqlQueryable } from '../../core/db.js';
import { findCredentialByHash, type DataPlaneCredentialRow } from '../db/credentials-repo.js';
import { setTenant, withAppRole } from '../db/tenant.js';
import { authenticate, rlsWorkspaces, type Caller } from '../http/auth.js';
import type { RouteFn, RouteRequest } from '../http/handler.js';
import { forbidden, unauthorized } from '../http/problems.js';
import type { HandlerResult } from '../http/response.js';

/**
 * Like `authorized`, for the observability routes: one transaction as the app role, the caller's
 * API key authenticated, one of `scopes` required, then the transaction scoped to the caller's
 * organisation (and workspace) so row-level security filters every query.
 */
export function withCaller(scopes: readonly string[], fn: (req: RouteRequest, caller: Caller) => Promise<HandlerResult>): RouteFn {
  return (req) =>
    withAppRole(req.ctx.db, async (tx, scoped) => {
      const caller = await authenticate(tx, req.headers);
      // Signed-in org members hold scopes per workspace (their roles there); RLS then limits them to those workspaces.
      const held = (s: string) => caller.scopes.has(s) || [...(caller.workspaceScopes?.values() ?? [])].some((w) => w.has(s));
      if (!scopes.some(held)) throw forbidden(caller.kind === 'user' ? `your role does not allow "${scopes[0]}"` : `this API key lacks the "${scopes[0]}" scope`);
      await setTenant(tx, caller.organisationId, rlsWorkspaces(caller));
      return fn({ ...req, ctx: { ...req.ctx, db: scoped } }, caller);
    });
}

/** The gateway's data-plane credential (`Authorization: Bearer`), as the sync route checks it. */
export async function dataPlaneCredential(db: SqlQueryable, headers: Record<string, string | undefined>): Promise<DataPlaneCredentialRow> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
  if (!bearer) throw unauthorized('missing data-plane credential: send Authorization: Bearer <token>');
  const credential = await findCredentialByHash(db, hashSecret(bearer));
  if (!credential || credential.status !== 'active') throw unauthorized('invalid data-plane credential');
  return credential;
}
