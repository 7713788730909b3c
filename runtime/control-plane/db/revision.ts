import type { SqlDatabase, SqlQueryable } from '../../core/db.js';
import { finishOrgMutation } from '../sync/change-log.js';
import { noteOrgChanged } from '../sync/materialised.js';
import { nudgeRevisionWatchers } from '../sync/watch.js';

/**
 * Runs one mutation of an org's data and bumps the org's revision in the same transaction,
 * so a gateway that has seen revision N has seen every change up to N and none after.
 * The change-log triggers record which entities changed (sync deltas, sync/change-log.ts); when
 * none fired, `finishOrgMutation` bumps the revision itself and marks it as needing a full snapshot.
 */
export function mutateOrg<T>(db: SqlDatabase, organisationId: string, fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    // Taking the org row lock first serialises concurrent mutations of one org on real Postgres.
    await tx.query('SELECT id FROM organisations WHERE id = $1 FOR UPDATE', [organisationId]);
    const value = await fn(tx);
    await finishOrgMutation(tx, organisationId);
    return value;
  }).then((value) => {
    // Waiting gateways (long-poll) in this process re-check now instead of at the next poll.
    nudgeRevisionWatchers();
    // And the org's materialised snapshot is rolled forward before the next gateway asks for it.
    noteOrgChanged(organisationId);
    return value;
  });
}

export async function orgRevision(db: SqlQueryable, organisationId: string): Promise<number | undefined> {
  // Callable outside a tenant transaction (the sync heartbeat), hence the SECURITY DEFINER function.
  const { rows } = await db.query<{ revision: number | string | null }>('SELECT tollgate_org_revision($1) AS revision', [organisationId]);
  return rows[0]?.revision === null || rows[0]?.revision === undefined ? undefined : Number(rows[0].revision);
}
