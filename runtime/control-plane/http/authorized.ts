import { setTenant, withAppRole } from '../db/tenant.js';
import { auditMutation } from './audit.js';
import { scopeFor, type AdminResource, type AdminVerb } from '../scopes.js';
import { authenticate, requireOrganisationKey, requireScope, rlsWorkspaces, type Caller } from './auth.js';
import type { RouteFn, RouteRequest } from './handler.js';
import type { HandlerResult } from './response.js';

/**
 * Wraps an admin route: one transaction as the non-superuser app role; authenticate the caller
 * (a SECURITY DEFINER lookup), check the `<resource>.<verb>` scope, then scope the transaction to
 * the caller's organisation (and workspace) so row-level security filters every query the route
 * runs. The route sees `req.ctx.db` as that transaction.
 */
/**
 * Organisation-level objects have no workspace for row-level security to hold a workspace key to,
 * so a workspace key (or workspace role) never reaches them, whatever scopes it was given.
 */
const ORGANISATION_LEVEL: ReadonlySet<AdminResource> = new Set(['organisation_users']);

export function authorized(
  resource: AdminResource,
  verb: AdminVerb,
  fn: (req: RouteRequest, caller: Caller) => Promise<HandlerResult>,
): RouteFn {
  return (req) =>
    withAppRole(req.ctx.db, async (tx, scoped) => {
      const caller = await authenticate(tx, req.headers);
      caller.required = scopeFor(resource, verb);
      requireScope(caller, caller.required);
      if (ORGANISATION_LEVEL.has(resource)) requireOrganisationKey(caller, 'managing organisation users and invites');
      await setTenant(tx, caller.organisationId, rlsWorkspaces(caller));
      const scopedReq = { ...req, ctx: { ...req.ctx, db: scoped } };
      const result = await fn(scopedReq, caller);
      // Every successful mutation is audited in the same transaction (reads are not).
      if (verb !== 'read' && verb !== 'list' && verb !== 'render' && (result.statusCode ?? 200) < 400) await auditMutation(tx, scopedReq, caller, result);
      return result;
    });
}

export const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());
