import type { SqlQueryable } from '../../core/db.js';

/**
 * The per-org change log behind sync deltas.
 *
 * Every row written to a synced table (api_keys, virtual_keys, configs, config_versions,
 * workspaces; since migration 61 also prompts, prompt_versions, prompt_labels, prompt_partials,
 * prompt_partial_versions, guardrails, pricing_overrides) fires a trigger that, in the same transaction:
 * - bumps `organisations.revision` once per transaction (`revision_txid` remembers which one did),
 *   so writes made outside `mutateOrg` are versioned too;
 * - records `(org, revision, entity, entity_id)` in `sync_changes`. Deletions are recorded the same
 *   way: the delta builder finds the row gone and sends a tombstone.
 *
 * `mutateOrg` bumps the revision itself when no tracked table changed in its transaction, and then
 * records the opaque marker entity `*`: a gateway behind such a revision gets a full snapshot. So a
 * table that is synced but not (yet) tracked never loses a change, it only costs a full sync.
 *
 * Rows older than the retention window are pruned; `organisations.sync_log_floor` is the highest
 * pruned revision, and a gateway whose version is below it gets a full snapshot.
 *
 * To track a new synced table, add `trackSyncTable('prompts', 'prompt')` statements in a migration
 * and a loader in delta.ts (`DELTA_LOADERS`); until then its changes fall back to full snapshots.
 */
export const OPAQUE_CHANGE = '*';

/** Defaults for the retained window: a day, and never more than this many revisions. */
export const CHANGE_LOG_MAX_AGE_SECONDS = 24 * 3600;
export const CHANGE_LOG_MAX_REVISIONS = 10_000;
/** Pruning runs inside a mutation once every this many revisions. */
export const CHANGE_LOG_PRUNE_EVERY = 128;

export function trackSyncTable(table: string, entity: string, idColumn = 'id'): string[] {
  return [
    `CREATE TRIGGER sync_change_write AFTER INSERT OR DELETE ON ${table}
       FOR EACH ROW EXECUTE FUNCTION tollgate_sync_change('${entity}', '${idColumn}')`,
    `CREATE TRIGGER sync_change_update AFTER UPDATE ON ${table}
       FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION tollgate_sync_change('${entity}', '${idColumn}')`,
  ];
}

/**
 * The migration's statements. `tenantStatements` are the row-level-security statements for the new
 * table (tenantTable('sync_changes') from db/schema/rls.ts), passed in to keep this file free of them.
 */
export function changeLogStatements(tenantStatements: string[]): string[] {
  return [
    `ALTER TABLE organisations ADD COLUMN IF NOT EXISTS revision_txid bigint`,
    `ALTER TABLE organisations ADD COLUMN IF NOT EXISTS sync_log_floor bigint NOT NULL DEFAULT 0`,
    // Nothing before this migration was logged: existing orgs start their window at their revision.
    `UPDATE organisations SET sync_log_floor = revision`,
    `CREATE TABLE sync_changes (
      organisation_id text NOT NULL,
      revision bigint NOT NULL,
      entity text NOT NULL,
      entity_id text NOT NULL,
      changed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organisation_id, revision, entity, entity_id)
    )`,
    ...tenantStatements,
    `CREATE OR REPLACE FUNCTION tollgate_sync_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
     DECLARE
       r jsonb;
       org text;
       rev bigint;
     BEGIN
       IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
       org := r ->> 'organisation_id';
       IF org IS NULL THEN RETURN NULL; END IF;
       UPDATE organisations SET revision = revision + 1, revision_txid = txid_current()
         WHERE id = org AND revision_txid IS DISTINCT FROM txid_current();
       SELECT revision INTO rev FROM organisations WHERE id = org;
       -- The org itself is being deleted (cascade): nothing left to sync.
       IF rev IS NULL THEN RETURN NULL; END IF;
       INSERT INTO sync_changes (organisation_id, revision, entity, entity_id)
         VALUES (org, rev, TG_ARGV[0], r ->> TG_ARGV[1]) ON CONFLICT DO NOTHING;
       RETURN NULL;
     END $fn$`,
    ...trackSyncTable('workspaces', 'workspace'),
    ...trackSyncTable('api_keys', 'api_key'),
    ...trackSyncTable('virtual_keys', 'virtual_key'),
    ...trackSyncTable('configs', 'config'),
    ...trackSyncTable('config_versions', 'config', 'config_id'),
  ];
}

/**
 * The log trigger function as migration 61 redefines it: `TG_ARGV[1]` is a comma list of id
 * columns whose values are joined with `/` (one column: exactly the column's value, as before).
 */
export function changeLogFunction(): string {
  return `CREATE OR REPLACE FUNCTION tollgate_sync_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
     DECLARE
       r jsonb;
       org text;
       rev bigint;
       eid text;
     BEGIN
       IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
       org := r ->> 'organisation_id';
       IF org IS NULL THEN RETURN NULL; END IF;
       UPDATE organisations SET revision = revision + 1, revision_txid = txid_current()
         WHERE id = org AND revision_txid IS DISTINCT FROM txid_current();
       SELECT revision INTO rev FROM organisations WHERE id = org;
       -- The org itself is being deleted (cascade): nothing left to sync.
       IF rev IS NULL THEN RETURN NULL; END IF;
       SELECT string_agg(r ->> u.col, '/' ORDER BY u.ord) INTO eid
         FROM unnest(string_to_array(TG_ARGV[1], ',')) WITH ORDINALITY AS u(col, ord);
       INSERT INTO sync_changes (organisation_id, revision, entity, entity_id)
         VALUES (org, rev, TG_ARGV[0], coalesce(eid, '')) ON CONFLICT DO NOTHING;
       RETURN NULL;
     END $fn$`;
}

/**
 * Called by `mutateOrg` at the end of its transaction: bumps the revision when no tracked table did
 * (recording the opaque marker), prunes the log now and then, and returns the org's new revision.
 */
export async function finishOrgMutation(tx: SqlQueryable, organisationId: string): Promise<number | undefined> {
  const bumped = await tx.query<{ revision: string | number }>(
    `UPDATE organisations SET revision = revision + 1, revision_txid = txid_current()
     WHERE id = $1 AND revision_txid IS DISTINCT FROM txid_current() RETURNING revision`,
    [organisationId],
  );
  let revision: number | undefined;
  if (bumped.rows[0]) {
    revision = Number(bumped.rows[0].revision);
    await tx.query(
      `INSERT INTO sync_changes (organisation_id, revision, entity, entity_id) VALUES ($1, $2, $3, '') ON CONFLICT DO NOTHING`,
      [organisationId, revision, OPAQUE_CHANGE],
    );
  } else {
    const { rows } = await tx.query<{ revision: string | number }>('SELECT revision FROM organisations WHERE id = $1', [organisationId]);
    revision = rows[0] ? Number(rows[0].revision) : undefined;
  }
  if (revision !== undefined && revision % CHANGE_LOG_PRUNE_EVERY === 0) await pruneChangeLog(tx, organisationId);
  return revision;
}

/**
 * Drops log rows older than the window (by age, or more than `maxRevisions` behind) and raises the
 * floor: gateways below it get a full snapshot.
 */
export async function pruneChangeLog(
  tx: SqlQueryable,
  organisationId: string,
  opts: { maxAgeSeconds?: number; maxRevisions?: number } = {},
): Promise<number | undefined> {
  const maxAge = opts.maxAgeSeconds ?? CHANGE_LOG_MAX_AGE_SECONDS;
  const maxRevisions = opts.maxRevisions ?? CHANGE_LOG_MAX_REVISIONS;
  const { rows } = await tx.query<{ cut: string | number | null }>(
    `SELECT max(c.revision) AS cut FROM sync_changes c, organisations o
     WHERE c.organisation_id = $1 AND o.id = $1
       AND (c.changed_at < now() - make_interval(secs => $2) OR c.revision <= o.revision - $3)`,
    [organisationId, maxAge, maxRevisions],
  );
  const cut = rows[0]?.cut;
  if (cut === null || cut === undefined) return undefined;
  await tx.query('DELETE FROM sync_changes WHERE organisation_id = $1 AND revision <= $2', [organisationId, cut]);
  await tx.query('UPDATE organisations SET sync_log_floor = GREATEST(sync_log_floor, $2) WHERE id = $1', [organisationId, cut]);
  return Number(cut);
}
