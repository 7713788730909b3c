import { z } from 'zod';
import type { OpenApiSchemas } from '../openapi/types.js';
import { listAudit, type AuditRow } from '../db/audit-repo.js';
import { authorized, iso } from '../http/authorized.js';
import type { RouteFn } from '../http/handler.js';
import { listBody, pageOf } from '../http/paging.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';

const date = z.coerce.date({ error: 'expected an ISO 8601 date' });
const filters = z.object({
  actor_id: z.string().optional(),
  actor_type: z.enum(['api_key', 'user', 'platform', 'system']).optional(),
  action: z.string().optional(),
  resource_type: z.string().optional(),
  resource_id: z.string().optional(),
  workspace_id: z.string().optional(),
  method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  start_time: date.optional(),
  end_time: date.optional(),
});

function present(a: AuditRow) {
  return {
    object: 'audit-log',
    id: a.id,
    organisation_id: a.organisation_id,
    workspace_id: a.workspace_id,
    actor: { type: a.actor_type, id: a.actor_id },
    action: a.action,
    resource: { type: a.resource_type, id: a.resource_id },
    request: { method: a.method, path: a.path, status: a.status, id: a.request_id },
    source_ip: a.source_ip,
    user_agent: a.user_agent,
    created_at: iso(a.created_at),
  };
}

export const auditRoutes: Record<string, RouteFn> = {
  /** Newest first. Workspace admins see their workspaces' entries only (row-level security). */
  'GET /v1/audit-logs': authorized('audit_logs', 'list', async (req, caller) => {
    const page = pageOf(req.query);
    const f = validate(filters, req.query);
    const { rows, total } = await listAudit(req.ctx.db, caller.organisationId, f, page.limit, page.offset);
    return json(200, listBody(rows.map(present), total, page));
  }),
};

export const openapi: OpenApiSchemas = { 'GET /v1/audit-logs': { query: filters, summary: 'Query the audit log (newest first)' } };
