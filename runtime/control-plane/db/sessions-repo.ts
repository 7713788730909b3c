import type { SqlQueryable } from '../../core/db.js';

export interface NewSession {
  id: string;
  userId: string;
  method: string;
  sourceIp?: string | null;
  userAgent?: string | null;
  expiresAt: Date;
}

/** Runs under the session's organisation (RLS): the caller has set the tenant. */
export async function insertSession(db: SqlQueryable, orgId: string, s: NewSession): Promise<void> {
  await db.query(
    `INSERT INTO sessions (id, organisation_id, user_id, method, source_ip, user_agent, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [s.id, orgId, s.userId, s.method, s.sourceIp ?? null, s.userAgent?.slice(0, 512) ?? null, s.expiresAt.toISOString()],
  );
}

export async function sessionIsLive(db: SqlQueryable, id: string, userId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()', [id, userId]);
  return rows.length > 0;
}

export async function revokeSession(db: SqlQueryable, id: string): Promise<boolean> {
  return (await db.query('UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id])).rows.length > 0;
}

/** Ends every live session of a user (role or password change), optionally keeping one. */
export async function revokeUserSessions(db: SqlQueryable, userId: string, keep: string | null = null): Promise<number> {
  const { rows } = await db.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $2 RETURNING id', [userId, keep]);
  return rows.length;
}
