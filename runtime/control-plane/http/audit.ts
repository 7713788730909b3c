import type { SqlQueryable } from '../../core/db.js';
import { insertAudit, type AuditEntry } from '../db/audit-repo.js';
import { rlsWorkspaces, type Caller } from './auth.js';
import type { RouteRequest } from './handler.js';
import type { HandlerResult } from './response.js';

/** Where a request came from: API Gateway's view of the client (sourceIp is the TCP peer or the CloudFront client). */
export function origin(req: RouteRequest): Pick<AuditEntry, 'sourceIp' | 'userAgent' | 'requestId' | 'method' | 'path'> {
  const http = req.event.requestContext?.http;
  return {
    sourceIp: http?.sourceIp ?? null,
    userAgent: req.headers['user-agent'] ?? http?.userAgent ?? null,
    requestId: req.event.requestContext?.requestId ?? null,
    method: http?.method ?? req.event.routeKey.split(' ')[0] ?? 'POST',
    path: req.event.rawPath,
  };
}

function parsed(result: HandlerResult): Record<string, unknown> {
  try {
    const body = JSON.parse(String(result.body ?? '{}')) as Record<string, unknown>;
    return body && typeof body === 'object' ? body : {};
  } catch {
    return {};
  }
}

/** The object a request acted on: the path's last parameter, else the id the answer names. */
function resourceId(req: RouteRequest, body: Record<string, unknown>): string | null {
  const params = Object.values(req.params).filter((v): v is string => typeof v === 'string');
  const last = params.at(-1);
  if (last && !/^(organisation|workspace|user|service)$/.test(last)) return last;
  const data = body.data as Record<string, unknown> | undefined;
  const id = body.slug ?? body.id ?? data?.slug ?? data?.id;
  return typeof id === 'string' ? id : null;
}

/** Records one successful mutation in the request's own transaction: no audit row, no change. */
export async function auditMutation(tx: SqlQueryable, req: RouteRequest, caller: Caller, result: HandlerResult): Promise<void> {
  const body = parsed(result);
  // Workspace-limited callers may only write rows of their workspaces (RLS): attribute it to one of them.
  const ws = (typeof body.workspace_id === 'string' ? body.workspace_id : null) ?? rlsWorkspaces(caller)?.[0] ?? null;
  const [resourceType] = caller.required.split('.');
  await insertAudit(tx, caller.organisationId, {
    ...origin(req),
    workspaceId: ws,
    actorType: caller.kind,
    actorId: caller.kind === 'user' ? caller.userId : caller.apiKeyId,
    action: caller.required,
    resourceType,
    resourceId: resourceId(req, body),
    status: result.statusCode ?? 200,
  });
}
