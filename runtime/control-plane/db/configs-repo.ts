import type { SqlQueryable } from '../../core/db.js';
import { newId } from '../../core/secrets.js';
import { jsonParam } from './json-param.js';

export type ConfigStatus = 'active' | 'archived';

/** A config joined with its latest version: what GET returns and what the gateway syncs. */
export interface ConfigRow {
  id: string;
  organisation_id: string;
  workspace_id: string;
  slug: string;
  name: string;
  is_default: boolean;
  status: ConfigStatus;
  latest_version: number;
  created_at: Date;
  updated_at: Date;
  version_id: string;
  config: Record<string, unknown>;
}

const selectLatest = `SELECT c.*, v.id AS version_id, v.config
  FROM configs c JOIN config_versions v ON v.config_id = c.id AND v.version = c.latest_version`;

export async function listConfigs(db: SqlQueryable, orgId: string, workspaceId: string | undefined, limit = 100, offset = 0) {
  const where = 'c.organisation_id = $1 AND ($2::text IS NULL OR c.workspace_id = $2)';
  // The page first, then its latest versions by index (LATERAL): a plain join read every config's version.
  const { rows } = await db.query<ConfigRow>(
    `SELECT c.*, v.id AS version_id, v.config
       FROM (SELECT * FROM configs c WHERE ${where} ORDER BY c.created_at, c.id LIMIT $3 OFFSET $4) c
       CROSS JOIN LATERAL (SELECT v.id, v.config FROM config_versions v WHERE v.config_id = c.id AND v.version = c.latest_version) v
      ORDER BY c.created_at, c.id`,
    [orgId, workspaceId ?? null, limit, offset],
  );
  const total = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM configs c WHERE ${where}`, [orgId, workspaceId ?? null]);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

export async function getConfig(db: SqlQueryable, orgId: string, slug: string): Promise<ConfigRow | undefined> {
  const { rows } = await db.query<ConfigRow>(`${selectLatest} WHERE c.organisation_id = $1 AND c.slug = $2`, [orgId, slug]);
  return rows[0];
}

async function insertVersion(db: SqlQueryable, orgId: string, configId: string, version: number, name: string, config: unknown) {
  const id = newId('pcv-');
  await db.query(
    'INSERT INTO config_versions (id, organisation_id, config_id, version, name, config) VALUES ($1, $2, $3, $4, $5, $6::jsonb)',
    [id, orgId, configId, version, name, jsonParam(config)],
  );
  return id;
}

export interface NewConfig {
  workspaceId: string;
  slug: string;
  name: string;
  isDefault: boolean;
  config: Record<string, unknown>;
}

export async function insertConfig(db: SqlQueryable, orgId: string, c: NewConfig): Promise<ConfigRow> {
  const id = newId('pc-');
  await db.query(
    `INSERT INTO configs (id, organisation_id, workspace_id, slug, name, is_default, latest_version)
     VALUES ($1, $2, $3, $4, $5, $6, 1)`,
    [id, orgId, c.workspaceId, c.slug, c.name, c.isDefault],
  );
  await insertVersion(db, orgId, id, 1, c.name, c.config);
  return (await getConfig(db, orgId, c.slug))!;
}

export interface ConfigPatch {
  name?: string;
  config?: Record<string, unknown>;
  status?: ConfigStatus;
}

/** Every update writes a new version (even a rename), so history is complete; GET reads the latest. */
export async function updateConfig(
  db: SqlQueryable,
  orgId: string,
  slug: string,
  p: ConfigPatch,
  expectedVersion?: number,
): Promise<ConfigRow | undefined> {
  const current = await getConfig(db, orgId, slug);
  if (!current) return undefined;
  // The config's version is its latest_version; a stale writer gets nothing back (the handler answers 409).
  if (expectedVersion !== undefined && expectedVersion !== current.latest_version) return undefined;
  const version = current.latest_version + 1;
  const name = p.name ?? current.name;
  await insertVersion(db, orgId, current.id, version, name, p.config ?? current.config);
  await db.query(
    `UPDATE configs SET name = $3, status = COALESCE($4, status), latest_version = $5, updated_at = now()
     WHERE organisation_id = $1 AND id = $2`,
    [orgId, current.id, name, p.status ?? null, version],
  );
  return getConfig(db, orgId, slug);
}

export async function deleteConfig(db: SqlQueryable, orgId: string, slug: string): Promise<boolean> {
  const { rows } = await db.query('DELETE FROM configs WHERE organisation_id = $1 AND slug = $2 RETURNING id', [orgId, slug]);
  return rows.length > 0;
}
