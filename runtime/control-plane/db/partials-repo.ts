import type { SqlQueryable } from '../../core/db.js';
import { newId } from '../../core/secrets.js';

export interface PartialRow {
  id: string;
  organisation_id: string;
  workspace_id: string;
  slug: string;
  name: string;
  status: 'active' | 'archived';
  latest_version: number;
  default_version: number;
  created_at: Date;
  updated_at: Date;
  /** Joined: the default (published) version's text. */
  string: string;
  description: string | null;
}

const select = `SELECT p.*, v.string, v.description FROM prompt_partials p
  JOIN prompt_partial_versions v ON v.partial_id = p.id AND v.version = p.default_version`;

export async function getPartial(db: SqlQueryable, orgId: string, ref: string): Promise<PartialRow | undefined> {
  return (await db.query<PartialRow>(`${select} WHERE p.organisation_id = $1 AND (p.id = $2 OR p.slug = $2)`, [orgId, ref])).rows[0];
}

export async function listPartials(db: SqlQueryable, orgId: string, workspaceId: string | undefined, limit: number, offset: number) {
  const where = 'p.organisation_id = $1 AND ($2::text IS NULL OR p.workspace_id = $2)';
  const { rows } = await db.query<PartialRow>(`${select} WHERE ${where} ORDER BY p.created_at, p.id LIMIT $3 OFFSET $4`, [orgId, workspaceId ?? null, limit, offset]);
  const total = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM prompt_partials p WHERE ${where}`, [orgId, workspaceId ?? null]);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

/** Active partials of the org by slug (and by name): what `{{>name}}` resolves against. */
export async function partialMap(db: SqlQueryable, orgId: string): Promise<Record<string, string>> {
  const { rows } = await db.query<PartialRow>(`${select} WHERE p.organisation_id = $1 AND p.status = 'active'`, [orgId]);
  const out: Record<string, string> = {};
  for (const r of rows) {
    out[r.name] ??= r.string;
    out[r.slug] = r.string;
  }
  return out;
}

async function insertPartialVersion(db: SqlQueryable, orgId: string, partialId: string, version: number, text: string, description?: string | null) {
  await db.query(
    'INSERT INTO prompt_partial_versions (id, organisation_id, partial_id, version, string, description) VALUES ($1, $2, $3, $4, $5, $6)',
    [newId('ppv-'), orgId, partialId, version, text, description ?? null],
  );
}

export async function insertPartial(db: SqlQueryable, orgId: string, p: { workspaceId: string; slug: string; name: string; string: string; description?: string | null }) {
  const id = newId('ppa-');
  await db.query('INSERT INTO prompt_partials (id, organisation_id, workspace_id, slug, name) VALUES ($1, $2, $3, $4, $5)', [id, orgId, p.workspaceId, p.slug, p.name]);
  await insertPartialVersion(db, orgId, id, 1, p.string, p.description);
  return (await getPartial(db, orgId, id))!;
}

/** A new text makes a new version and publishes it (partials have no separate staging). */
export async function updatePartial(db: SqlQueryable, orgId: string, current: PartialRow, p: { name?: string; string?: string; description?: string | null; status?: string }) {
  let version = current.default_version;
  if (p.string !== undefined) {
    version = current.latest_version + 1;
    await insertPartialVersion(db, orgId, current.id, version, p.string, p.description);
  }
  await db.query(
    `UPDATE prompt_partials SET name = COALESCE($2, name), status = COALESCE($3, status), latest_version = GREATEST(latest_version, $4),
       default_version = $4, updated_at = now() WHERE id = $1`,
    [current.id, p.name ?? null, p.status ?? null, version],
  );
  return (await getPartial(db, orgId, current.id))!;
}

export async function publishPartial(db: SqlQueryable, orgId: string, id: string, version: number): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE prompt_partials SET default_version = $3, updated_at = now()
     WHERE organisation_id = $1 AND id = $2 AND EXISTS (SELECT 1 FROM prompt_partial_versions WHERE partial_id = $2 AND version = $3) RETURNING id`,
    [orgId, id, version],
  );
  return rows.length > 0;
}

export async function listPartialVersions(db: SqlQueryable, partialId: string) {
  return (await db.query<{ id: string; version: number; string: string; description: string | null; created_at: Date }>(
    'SELECT id, version, string, description, created_at FROM prompt_partial_versions WHERE partial_id = $1 ORDER BY version DESC',
    [partialId],
  )).rows;
}

export async function deletePartial(db: SqlQueryable, orgId: string, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM prompt_partials WHERE organisation_id = $1 AND id = $2 RETURNING id', [orgId, id])).rows.length > 0;
}
