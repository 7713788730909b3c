import { scopeFor, type AdminResource, type AdminVerb } from '../scopes.js';
import { authenticate, requireScope, type Caller } from './auth.js';
import type { RouteFn, RouteRequest } from './handler.js';
import type { HandlerResult } from './response.js';

/** Wraps an admin route: authenticate the API key, then check the `<resource>.<verb>` scope. */
export function authorized(
  resource: AdminResource,
  verb: AdminVerb,
  fn: (req: RouteRequest, caller: Caller) => Promise<HandlerResult>,
): RouteFn {
  return async (req) => {
    const caller = await authenticate(req.ctx.db, req.headers);
    requireScope(caller, scopeFor(resource, verb));
    return fn(req, caller);
  };
}

export const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());
