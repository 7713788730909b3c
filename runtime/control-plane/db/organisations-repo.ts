import type { SqlQueryable } from '../../core/db.js';

export interface OrganisationRow {
  id: string;
  name: string;
  revision: number | string;
  kms_key_arn: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** Run as the platform role (asPlatform): every organisation. */
export async function listOrganisations(db: SqlQueryable, limit: number, offset: number) {
  const { rows } = await db.query<OrganisationRow>('SELECT * FROM organisations ORDER BY created_at, id LIMIT $1 OFFSET $2', [limit, offset]);
  const total = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM organisations');
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

export async function getOrganisation(db: SqlQueryable, id: string): Promise<OrganisationRow | undefined> {
  return (await db.query<OrganisationRow>('SELECT * FROM organisations WHERE id = $1', [id])).rows[0];
}

export async function updateOrganisation(
  db: SqlQueryable,
  id: string,
  p: { name?: string; kmsKeyArn?: string | null },
  expectedVersion?: number,
): Promise<OrganisationRow | undefined> {
  const { rows } = await db.query<OrganisationRow>(
    `UPDATE organisations SET name = COALESCE($2, name), kms_key_arn = CASE WHEN $3::boolean THEN $4 ELSE kms_key_arn END,
       version = version + 1, updated_at = now()
     WHERE id = $1 AND ($5::int IS NULL OR version = $5) RETURNING *`,
    [id, p.name ?? null, p.kmsKeyArn !== undefined, p.kmsKeyArn ?? null, expectedVersion ?? null],
  );
  return rows[0];
}
