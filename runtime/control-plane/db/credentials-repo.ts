import type { SqlQueryable } from '../../core/db.js';
import { newId } from '../../core/secrets.js';

export interface DataPlaneCredentialRow {
  id: string;
  organisation_id: string;
  token_hash: string;
  name: string;
  status: 'active' | 'revoked';
}

/** Cross-org by hash (the token tells us the org), hence a SECURITY DEFINER function. */
export async function findCredentialByHash(db: SqlQueryable, tokenHash: string): Promise<DataPlaneCredentialRow | undefined> {
  const { rows } = await db.query<DataPlaneCredentialRow>('SELECT * FROM tollgate_credential_by_hash($1)', [tokenHash]);
  return rows[0];
}

export async function insertCredential(db: SqlQueryable, orgId: string, tokenHash: string, name: string): Promise<DataPlaneCredentialRow> {
  const { rows } = await db.query<DataPlaneCredentialRow>(
    'INSERT INTO data_plane_credentials (id, organisation_id, token_hash, name) VALUES ($1, $2, $3, $4) RETURNING *',
    [newId('dpc-'), orgId, tokenHash, name],
  );
  return rows[0];
}

/** Heartbeat bookkeeping; best effort, never on the critical path of a failed sync. */
export async function touchCredential(db: SqlQueryable, id: string): Promise<void> {
  await db.query('SELECT tollgate_touch_credential($1)', [id]);
}
