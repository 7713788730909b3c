import { hashSecret } from '../../core/secrets.js';
import type { SqlQueryable } from '../../core/db.js';
import { findCredentialByHash, type DataPlaneCredentialRow } from '../db/credentials-repo.js';
import { setTenant, withAppRole } from '../db/tenant.js';
import { authenticate, type Caller } from '../http/auth.js';
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
      if (!scopes.some((s) => caller.scopes.has(s))) throw forbidden(`this API key lacks the "${scopes[0]}" scope`);
      await setTenant(tx, caller.organisationId, caller.workspaceId);
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
