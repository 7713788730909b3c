import type { SqlQueryable } from '../../core/db.js';

export interface ConfigVersionRow {
  id: string;
  version: number;
  name: string;
  config: Record<string, unknown>;
  created_at: Date;
}

export async function listConfigVersions(db: SqlQueryable, configId: string, limit: number, offset: number) {
  const { rows } = await db.query<ConfigVersionRow>(
    'SELECT id, version, name, config, created_at FROM config_versions WHERE config_id = $1 ORDER BY version DESC LIMIT $2 OFFSET $3',
    [configId, limit, offset],
  );
  const total = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM config_versions WHERE config_id = $1', [configId]);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

export async function getConfigVersion(db: SqlQueryable, configId: string, version: number): Promise<ConfigVersionRow | undefined> {
  return (await db.query<ConfigVersionRow>('SELECT id, version, name, config, created_at FROM config_versions WHERE config_id = $1 AND version = $2', [configId, version])).rows[0];
}
