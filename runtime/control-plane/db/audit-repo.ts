import type { SqlQueryable } from '../../core/db.js';
import { newId } from '../../core/secrets.js';

export interface AuditEntry {
  workspaceId: string | null;
  actorType: 'api_key' | 'user' | 'platform' | 'system';
  actorId: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  method: string;
  path: string;
  status: number;
  sourceIp: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface AuditRow {
  id: string;
  organisation_id: string;
  workspace_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  method: string;
  path: string;
  status: number;
  source_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: Date;
}

export async function insertAudit(db: SqlQueryable, orgId: string, e: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_logs (id, organisation_id, workspace_id, actor_type, actor_id, action, resource_type, resource_id,
       method, path, status, source_ip, user_agent, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [newId('aud-'), orgId, e.workspaceId, e.actorType, e.actorId, e.action, e.resourceType, e.resourceId, e.method, e.path, e.status, e.sourceIp, e.userAgent?.slice(0, 512) ?? null, e.requestId],
  );
}

export interface AuditFilters {
  actor_id?: string;
  actor_type?: string;
  action?: string;
  resource_type?: string;
  resource_id?: string;
  workspace_id?: string;
  method?: string;
  start_time?: Date;
  end_time?: Date;
}

export async function listAudit(db: SqlQueryable, orgId: string, f: AuditFilters, limit: number, offset: number) {
  const where = `organisation_id = $1
    AND ($2::text IS NULL OR actor_id = $2) AND ($3::text IS NULL OR actor_type = $3) AND ($4::text IS NULL OR action = $4)
    AND ($5::text IS NULL OR resource_type = $5) AND ($6::text IS NULL OR resource_id = $6) AND ($7::text IS NULL OR workspace_id = $7)
    AND ($8::text IS NULL OR method = $8) AND ($9::timestamptz IS NULL OR created_at >= $9) AND ($10::timestamptz IS NULL OR created_at < $10)`;
  const params = [orgId, f.actor_id ?? null, f.actor_type ?? null, f.action ?? null, f.resource_type ?? null, f.resource_id ?? null, f.workspace_id ?? null, f.method ?? null, f.start_time ?? null, f.end_time ?? null];
  const { rows } = await db.query<AuditRow>(`SELECT * FROM audit_logs WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $11 OFFSET $12`, [...params, limit, offset]);
  const total = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM audit_logs WHERE ${where}`, params);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}
