import type { SqlQueryable } from '../../core/db.js';
import type { WorkspaceRole } from '../roles.js';
import type { MemberRow, UserRow } from './users-repo.js';

export type MemberWithUser = MemberRow & Pick<UserRow, 'email' | 'first_name' | 'last_name'> & { org_role: string; user_status: string };

const select = `SELECT m.*, u.email, u.first_name, u.last_name, u.role AS org_role, u.status AS user_status
  FROM workspace_members m JOIN users u ON u.id = m.user_id`;

export async function listMembers(db: SqlQueryable, workspaceId: string, f: { email?: string; role?: string }, limit: number, offset: number) {
  const where = 'm.workspace_id = $1 AND ($2::text IS NULL OR lower(u.email) = lower($2)) AND ($3::text IS NULL OR m.role = $3)';
  const params = [workspaceId, f.email ?? null, f.role ?? null];
  const { rows } = await db.query<MemberWithUser>(`${select} WHERE ${where} ORDER BY m.created_at, m.user_id LIMIT $4 OFFSET $5`, [...params, limit, offset]);
  const total = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM workspace_members m JOIN users u ON u.id = m.user_id WHERE ${where}`, params);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

export async function getMember(db: SqlQueryable, workspaceId: string, userId: string): Promise<MemberWithUser | undefined> {
  return (await db.query<MemberWithUser>(`${select} WHERE m.workspace_id = $1 AND m.user_id = $2`, [workspaceId, userId])).rows[0];
}

export async function upsertMember(db: SqlQueryable, orgId: string, workspaceId: string, userId: string, role: WorkspaceRole): Promise<void> {
  await db.query(
    `INSERT INTO workspace_members (organisation_id, workspace_id, user_id, role) VALUES ($1, $2, $3, $4)
     ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()`,
    [orgId, workspaceId, userId, role],
  );
}

export async function deleteMember(db: SqlQueryable, workspaceId: string, userId: string): Promise<boolean> {
  return (await db.query('DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2 RETURNING user_id', [workspaceId, userId])).rows.length > 0;
}
