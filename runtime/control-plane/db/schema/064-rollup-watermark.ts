import type { Migration } from '../migrations.js';
import { ensureRole } from './rls.js';

/** The role the background roll-up runs as: it reads every organisation's new rows and writes their rollups. */
export const ROLLUP_ROLE = 'tollgate_rollup';

const ROLLUP_TABLES = ['request_metrics_hourly', 'request_metrics_hourly_users', 'request_metrics_daily_users'];

/**
 * Rollups move out of the ingest statement (issue 6: the upserts were a quarter of the ingest's
 * CPU, and concurrent batches queued on the same hot rollup rows). Each raw row now records the
 * transaction that inserted it (`ingest_xid`); a background step folds the rows whose transaction
 * ended before its snapshot's xmin into the rollups and moves `metric_rollup_state.rolled_to` past
 * them in the same transaction. Analytics read rollups plus the raw rows at or after `rolled_to`,
 * both in one statement (one snapshot), so answers stay exact whether or not the step has run.
 * An xid rather than a sequence: a sequence value is taken before its transaction commits, so a
 * watermark on it could pass a row that becomes visible only later; every xid below a snapshot's
 * xmin is already committed or aborted.
 * Existing rows keep a NULL `ingest_xid` (they are in the rollups already, written by the old
 * ingest statement); the default is set after the column is added, so the table is not rewritten.
 */
export const m064: Migration = {
  id: 64,
  name: 'observability: rollups maintained in the background past a watermark',
  statements: [
    `ALTER TABLE request_metrics ADD COLUMN ingest_xid xid8`,
    `ALTER TABLE request_metrics ALTER COLUMN ingest_xid SET DEFAULT pg_current_xact_id()`,
    `CREATE INDEX request_metrics_ingest_xid ON request_metrics (ingest_xid)`,
    `CREATE TABLE metric_rollup_state (
      id integer PRIMARY KEY CHECK (id = 1),
      rolled_to xid8 NOT NULL,
      rolled_at timestamptz NOT NULL DEFAULT now()
    )`,
    `INSERT INTO metric_rollup_state (id, rolled_to) VALUES (1, '0'::xid8)`,
    ...ensureRole(ROLLUP_ROLE),
    `GRANT USAGE ON SCHEMA public TO ${ROLLUP_ROLE}`,
    `GRANT SELECT ON metric_rollup_state TO tollgate_app`,
    `GRANT SELECT, UPDATE ON metric_rollup_state TO ${ROLLUP_ROLE}`,
    `GRANT SELECT ON request_metrics TO ${ROLLUP_ROLE}`,
    `CREATE POLICY rollup_read ON request_metrics FOR SELECT TO ${ROLLUP_ROLE} USING (true)`,
    ...ROLLUP_TABLES.flatMap((table) => [
      `GRANT SELECT, INSERT, UPDATE ON ${table} TO ${ROLLUP_ROLE}`,
      `CREATE POLICY rollup_write ON ${table} TO ${ROLLUP_ROLE} USING (true) WITH CHECK (true)`,
    ]),
  ],
};
