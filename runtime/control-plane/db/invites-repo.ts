import type { SqlQueryable } from '../../core/db.js';
import { newId } from '../../core/secrets.js';
import type { OrgRole, WorkspaceRole } from '../roles.js';
import { jsonParam } from './json-param.js';

export interface InviteRow {
  id: string;
  organisation_id: string;
  email: string;
  role: OrgRole;
  workspaces: { id: string; role: WorkspaceRole }[];
  token_hash: string;
  status: 'pending' | 'accepted' | 'cancelled';
  invited_by: string | null;
  expires_at: Date;
  accepted_at: Date | null;
  created_at: Date;
}

export async function insertInvite(
  db: SqlQueryable,
  orgId: string,
  i: { email: string; role: OrgRole; workspaces: InviteRow['workspaces']; tokenHash: string; invitedBy: string | null; expiresAt: Date },
): Promise<InviteRow> {
  const { rows } = await db.query<InviteRow>(
    `INSERT INTO invites (id, organisation_id, email, role, workspaces, token_hash, invited_by, expires_at)
     VALUES ($1, $2, lower($3), $4, $5::jsonb, $6, $7, $8) RETURNING *`,
    [newId('inv-'), orgId, i.email, i.role, jsonParam(i.workspaces), i.tokenHash, i.invitedBy, i.expiresAt],
  );
  return rows[0];
}

export async function getInvite(db: SqlQueryable, orgId: string, id: string): Promise<InviteRow | undefined> {
  return (await db.query<InviteRow>('SELECT * FROM invites WHERE organisation_id = $1 AND id = $2', [orgId, id])).rows[0];
}

export async function findInviteByToken(db: SqlQueryable, tokenHash: string): Promise<InviteRow | undefined> {
  return (await db.query<InviteRow>('SELECT * FROM tollgate_invite_by_token($1)', [tokenHash])).rows[0];
}

export async function listInvites(db: SqlQueryable, orgId: string, f: { email?: string; role?: string; status?: string }, limit: number, offset: number) {
  // `expired` is derived: pending past its expiry.
  const where = `organisation_id = $1 AND ($2::text IS NULL OR lower(email) = lower($2)) AND ($3::text IS NULL OR role = $3)
    AND ($4::text IS NULL OR (CASE WHEN status = 'pending' AND expires_at <= now() THEN 'expired' ELSE status END) = $4)`;
  const params = [orgId, f.email ?? null, f.role ?? null, f.status ?? null];
  const { rows } = await db.query<InviteRow>(`SELECT * FROM invites WHERE ${where} ORDER BY created_at, id LIMIT $5 OFFSET $6`, [...params, limit, offset]);
  const total = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM invites WHERE ${where}`, params);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

export async function setInviteStatus(db: SqlQueryable, orgId: string, id: string, status: InviteRow['status'], tokenHash?: string, expiresAt?: Date) {
  const { rows } = await db.query<InviteRow>(
    `UPDATE invites SET status = $3, token_hash = COALESCE($4, token_hash), expires_at = COALESCE($5, expires_at),
       accepted_at = CASE WHEN $3 = 'accepted' THEN now() ELSE accepted_at END
     WHERE organisation_id = $1 AND id = $2 RETURNING *`,
    [orgId, id, status, tokenHash ?? null, expiresAt ?? null],
  );
  return rows[0];
}

export async function deleteInvite(db: SqlQueryable, orgId: string, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM invites WHERE organisation_id = $1 AND id = $2 RETURNING id', [orgId, id])).rows.length > 0;
}
