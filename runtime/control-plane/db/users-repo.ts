import type { SqlQueryable } from '../../core/db.js';
import { newId } from '../../core/secrets.js';
import type { OrgRole, WorkspaceRole } from '../roles.js';

export interface UserRow {
  id: string;
  organisation_id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  role: OrgRole;
  password_hash: string | null;
  status: 'active' | 'disabled';
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** Cross-org (the login form names no org), hence the SECURITY DEFINER function. */
export async function findUsersByEmail(db: SqlQueryable, email: string): Promise<UserRow[]> {
  return (await db.query<UserRow>('SELECT * FROM tollgate_users_by_email($1)', [email])).rows;
}

export async function findUserById(db: SqlQueryable, id: string): Promise<UserRow | undefined> {
  return (await db.query<UserRow>('SELECT * FROM tollgate_user_by_id($1)', [id])).rows[0];
}

export async function getUser(db: SqlQueryable, orgId: string, id: string): Promise<UserRow | undefined> {
  return (await db.query<UserRow>('SELECT * FROM users WHERE organisation_id = $1 AND id = $2', [orgId, id])).rows[0];
}

export async function listUsers(db: SqlQueryable, orgId: string, f: { email?: string; role?: string }, limit: number, offset: number) {
  const where = 'organisation_id = $1 AND ($2::text IS NULL OR lower(email) = lower($2)) AND ($3::text IS NULL OR role = $3)';
  const params = [orgId, f.email ?? null, f.role ?? null];
  const { rows } = await db.query<UserRow>(`SELECT * FROM users WHERE ${where} ORDER BY created_at, id LIMIT $4 OFFSET $5`, [...params, limit, offset]);
  const total = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM users WHERE ${where}`, params);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

export interface NewUser {
  email: string;
  role: OrgRole;
  firstName?: string | null;
  lastName?: string | null;
  passwordHash?: string | null;
}

export async function insertUser(db: SqlQueryable, orgId: string, u: NewUser): Promise<UserRow> {
  const { rows } = await db.query<UserRow>(
    `INSERT INTO users (id, organisation_id, email, first_name, last_name, role, password_hash)
     VALUES ($1, $2, lower($3), $4, $5, $6, $7) RETURNING *`,
    [newId('usr-'), orgId, u.email, u.firstName ?? null, u.lastName ?? null, u.role, u.passwordHash ?? null],
  );
  return rows[0];
}

export async function updateUser(
  db: SqlQueryable,
  orgId: string,
  id: string,
  p: { role?: OrgRole; firstName?: string | null; lastName?: string | null; passwordHash?: string; status?: 'active' | 'disabled' },
  expectedVersion?: number,
): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(
    `UPDATE users SET role = COALESCE($3, role),
       first_name = CASE WHEN $4::boolean THEN $5 ELSE first_name END,
       last_name = CASE WHEN $6::boolean THEN $7 ELSE last_name END,
       password_hash = COALESCE($8, password_hash),
       status = COALESCE($9, status),
       version = version + 1, updated_at = now()
     WHERE organisation_id = $1 AND id = $2 AND ($10::int IS NULL OR version = $10) RETURNING *`,
    [orgId, id, p.role ?? null, p.firstName !== undefined, p.firstName ?? null, p.lastName !== undefined, p.lastName ?? null, p.passwordHash ?? null, p.status ?? null, expectedVersion ?? null],
  );
  return rows[0];
}

export async function deleteUser(db: SqlQueryable, orgId: string, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM users WHERE organisation_id = $1 AND id = $2 RETURNING id', [orgId, id])).rows.length > 0;
}

export async function countOwners(db: SqlQueryable, orgId: string): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM users WHERE organisation_id = $1 AND role = 'owner' AND status = 'active'`, [orgId]);
  return Number(rows[0]?.n ?? 0);
}

export interface MemberRow {
  organisation_id: string;
  workspace_id: string;
  user_id: string;
  role: WorkspaceRole;
  created_at: Date;
  updated_at: Date;
}

/** Workspace ids of many users in one query (the users list): user id -> workspace ids. */
export async function membersOfUsers(db: SqlQueryable, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (userIds.length === 0) return out;
  const { rows } = await db.query<{ user_id: string; workspace_id: string }>('SELECT user_id, workspace_id FROM workspace_members WHERE user_id = ANY($1::text[])', [userIds]);
  for (const r of rows) out.set(r.user_id, [...(out.get(r.user_id) ?? []), r.workspace_id]);
  return out;
}

export async function userWorkspaceRoles(db: SqlQueryable, userId: string): Promise<MemberRow[]> {
  return (await db.query<MemberRow>('SELECT * FROM workspace_members WHERE user_id = $1', [userId])).rows;
}
