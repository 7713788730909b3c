import type { SqlDatabase } from '../../core/db.js';
import type { Logger } from '../../core/logger.js';
import { ROLLUP_DIMENSIONS, ROLLUP_MEASURE_COLUMNS, perBucketSql, rollupFromBucketsSql } from '../db/schema/063-metric-rollups.js';
import { ROLLUP_ROLE } from '../db/schema/064-rollup-watermark.js';
import { ROLLUP_LOCK_KEY, dailyFromHourlySql } from '../db/schema/065-daily-rollups.js';
import { META_DIMENSIONS, META_KEY_COLUMNS, metadataPairsSql } from '../db/schema/067-metadata-rollups.js';
import { FEEDBACK_REQUEST_COLUMNS } from '../db/schema/068-feedback-requests.js';
import { METADATA_OBJECT_TABLES, metadataObjectKey } from '../db/schema/069-metadata-object-rollups.js';
import { USER_SET_TABLES, dailyUserSetsSql, keysOf, mergeUserSetSql, metaUserSetsSql, userHoursSql, userSetKey, userSetsSql } from '../db/schema/069-user-sets.js';
import { histAddSql } from './latency-hist.js';

/**
 * The background roll-up (migrations 64, 65, 67, 68, 69): folds raw rows inserted since the watermark into the
 * hourly, daily, metadata and user rollups and user sets, links requests and feedback of the same trace, and moves the
 * watermark, in one statement. Rows count once because the
 * watermark and the rollups change in the same transaction and the xid range [rolled_to, xmin) is
 * read from the statement's own snapshot: every transaction below its xmin has ended, and one that
 * ends later has an xid at or above it. A retried ingest batch inserts no row, so adds nothing.
 * Runs are serialised by an advisory lock (several control-plane processes may share a database).
 */
const dims = ROLLUP_DIMENSIONS.join(', ');
const metaDims = [...META_DIMENSIONS, ...ROLLUP_DIMENSIONS].join(', ');
/** Upserts of one kind of user sets (migration 69): hourly from this run's rows, daily from those hourly sets. */
const userSetCtes = (meta: boolean) => {
  const [hourly, daily] = meta ? USER_SET_TABLES.meta : USER_SET_TABLES.plain;
  const keys = keysOf(meta);
  const name = meta ? 'meta_users' : 'plain_users';
  return `${name} (organisation_id, hour, ${keys}, users) AS MATERIALIZED (${meta ? metaUserSetsSql('user_hours') : userSetsSql('src', false)}),
  ${name}_hourly AS (
    INSERT INTO ${hourly} (organisation_id, hour, ${keys}, users) SELECT * FROM ${name}
    ON CONFLICT (organisation_id, ${userSetKey(meta, 'hour')}) DO UPDATE ${mergeUserSetSql(hourly)}
  ),
  ${name}_daily AS (
    INSERT INTO ${daily} (organisation_id, day, ${keys}, users) ${dailyUserSetsSql(name, meta)}
    ON CONFLICT (organisation_id, ${userSetKey(meta, 'day')}) DO UPDATE ${mergeUserSetSql(daily)}
  ),`;
};
const linkCols = (alias: string) => FEEDBACK_REQUEST_COLUMNS.map((c) => `${alias}.${c}`).join(', ');

/** Adds an upsert's new measures to the stored row. */
const merge = (t: string) => `requests = ${t}.requests + EXCLUDED.requests,
      cost = ${t}.cost + EXCLUDED.cost,
      total_units = ${t}.total_units + EXCLUDED.total_units,
      req_units = ${t}.req_units + EXCLUDED.req_units,
      res_units = ${t}.res_units + EXCLUDED.res_units,
      total_ms = ${t}.total_ms + EXCLUDED.total_ms,
      min_ms = least(${t}.min_ms, EXCLUDED.min_ms),
      max_ms = greatest(${t}.max_ms, EXCLUDED.max_ms),
      latency_hist = ${histAddSql(`${t}.latency_hist`, 'EXCLUDED.latency_hist')},
      first_at = least(${t}.first_at, EXCLUDED.first_at),
      last_at = greatest(${t}.last_at, EXCLUDED.last_at)`;

// The hourly aggregate is computed once and feeds both the hourly and the daily rollups. Rows are
// first counted per latency bucket and whole metadata object (`pre`): the plain and the metadata
// rollups are both summed from those few rows, and only they are split into metadata pairs
// (splitting every raw row cost ~20% more Postgres CPU per ingested record).
const ROLL_UP_SQL = `WITH bounds AS (
    SELECT rolled_to AS lo, pg_snapshot_xmin(pg_current_snapshot()) AS hi FROM metric_rollup_state WHERE id = 1 FOR UPDATE
  ),
  src AS MATERIALIZED (
    SELECT r.* FROM request_metrics r, bounds WHERE r.ingest_xid >= bounds.lo AND r.ingest_xid < bounds.hi
  ),
  pre AS MATERIALIZED (${perBucketSql('src', [...ROLLUP_DIMENSIONS, 'metadata'])}),
  agg (organisation_id, hour, ${dims}, ${ROLLUP_MEASURE_COLUMNS}) AS MATERIALIZED (${rollupFromBucketsSql('pre')}),
  hourly AS (
    INSERT INTO request_metrics_hourly (organisation_id, hour, ${dims}, ${ROLLUP_MEASURE_COLUMNS})
    SELECT * FROM agg
    ON CONFLICT (organisation_id, hour, ${dims}) DO UPDATE SET ${merge('request_metrics_hourly')}
  ),
  daily AS (
    INSERT INTO request_metrics_daily (organisation_id, day, ${dims}, ${ROLLUP_MEASURE_COLUMNS})
    ${dailyFromHourlySql('agg')}
    ON CONFLICT (organisation_id, day, ${dims}) DO UPDATE SET ${merge('request_metrics_daily')}
  ),
  meta (organisation_id, hour, ${metaDims}, ${ROLLUP_MEASURE_COLUMNS}) AS MATERIALIZED (${rollupFromBucketsSql(metadataPairsSql('pre'), META_DIMENSIONS)}),
  hourly_meta AS (
    INSERT INTO request_metrics_hourly_meta (organisation_id, hour, ${metaDims}, ${ROLLUP_MEASURE_COLUMNS})
    SELECT * FROM meta
    ON CONFLICT (organisation_id, ${META_KEY_COLUMNS}, hour, ${dims}) DO UPDATE SET ${merge('request_metrics_hourly_meta')}
  ),
  daily_meta AS (
    INSERT INTO request_metrics_daily_meta (organisation_id, day, ${metaDims}, ${ROLLUP_MEASURE_COLUMNS})
    ${dailyFromHourlySql('meta', META_DIMENSIONS)}
    ON CONFLICT (organisation_id, ${META_KEY_COLUMNS}, day, ${dims}) DO UPDATE SET ${merge('request_metrics_daily_meta')}
  ),
  -- Users per hour (as created_at), workspace and metadata object: one pass over the new rows for the
  -- user rollups and the metadata user sets.
  user_hours AS MATERIALIZED (${userHoursSql('src')}),
  metaobj (organisation_id, hour, metadata, ${dims}, ${ROLLUP_MEASURE_COLUMNS}) AS MATERIALIZED (${rollupFromBucketsSql('pre', ['metadata'])}),
  hourly_metaobj AS (
    INSERT INTO ${METADATA_OBJECT_TABLES[0]} (organisation_id, hour, metadata, ${dims}, ${ROLLUP_MEASURE_COLUMNS})
    SELECT * FROM metaobj
    ON CONFLICT (organisation_id, ${metadataObjectKey('hour')}) DO UPDATE SET ${merge(METADATA_OBJECT_TABLES[0])}
  ),
  daily_metaobj AS (
    INSERT INTO ${METADATA_OBJECT_TABLES[1]} (organisation_id, day, metadata, ${dims}, ${ROLLUP_MEASURE_COLUMNS})
    ${dailyFromHourlySql('metaobj', ['metadata'])}
    ON CONFLICT (organisation_id, ${metadataObjectKey('day')}) DO UPDATE SET ${merge(METADATA_OBJECT_TABLES[1])}
  ),
  users AS (
    INSERT INTO request_metrics_hourly_users (organisation_id, hour, workspace_id, end_user)
    SELECT DISTINCT organisation_id, created_at, workspace_id, end_user FROM user_hours
    ON CONFLICT DO NOTHING
  ),
  daily_users AS (
    INSERT INTO request_metrics_daily_users (organisation_id, day, workspace_id, end_user)
    SELECT DISTINCT organisation_id, date_trunc('day', created_at, 'UTC'), workspace_id, end_user FROM user_hours
    ON CONFLICT DO NOTHING
  ),
  ${userSetCtes(false)}
  ${userSetCtes(true)}
  -- Requests of traces with feedback (migration 68): a request is linked once it and some feedback
  -- of its trace are both below the new watermark, from whichever side arrived in this run. NULL
  -- xids are older than the watermark columns.
  new_feedback AS MATERIALIZED (
    SELECT DISTINCT f.organisation_id, f.trace_id FROM feedback f, bounds WHERE f.link_xid >= bounds.lo AND f.link_xid < bounds.hi
  ),
  links AS (
    INSERT INTO feedback_requests (${FEEDBACK_REQUEST_COLUMNS.join(', ')})
    SELECT ${linkCols('s')} FROM src s, bounds WHERE s.trace_id IS NOT NULL AND EXISTS (
      SELECT 1 FROM feedback f WHERE f.organisation_id = s.organisation_id AND f.trace_id = s.trace_id AND (f.link_xid IS NULL OR f.link_xid < bounds.hi))
    UNION ALL
    SELECT ${linkCols('r')} FROM new_feedback n JOIN request_metrics r ON r.organisation_id = n.organisation_id AND r.trace_id = n.trace_id, bounds
    WHERE r.ingest_xid IS NULL OR r.ingest_xid < bounds.hi
    ON CONFLICT DO NOTHING
  ),
  moved AS (
    UPDATE metric_rollup_state s SET rolled_to = bounds.hi, rolled_at = now() FROM bounds WHERE s.id = 1 AND bounds.hi > bounds.lo
  )
SELECT count(*)::int AS rolled FROM src`;

/** Rolls up what is pending; `null` when another run holds the lock (nothing was done). */
export async function rollUpMetrics(db: SqlDatabase): Promise<number | null> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [ROLLUP_LOCK_KEY]);
    if (!rows[0]?.locked) return null;
    await tx.query(`SET LOCAL ROLE ${ROLLUP_ROLE}`);
    const done = await tx.query<{ rolled: number }>(ROLL_UP_SQL);
    return Number(done.rows[0]?.rolled ?? 0);
  });
}

/** How often each process rolls up (TOLLGATE_METRICS_ROLLUP_MS, default 2 s; 0 = on every ingest request). */
const intervalMs = (): number => {
  const v = Number(process.env.TOLLGATE_METRICS_ROLLUP_MS || 2000);
  return Number.isFinite(v) && v >= 0 ? v : 2000;
};
const lastRun = new WeakMap<SqlDatabase, number>();

/**
 * Called by the ingest route after its batch committed: rolls up at most once per interval per
 * process. Driven by ingest traffic rather than a timer so that it also runs on Lambda, where
 * nothing runs between invocations; rows not rolled up yet are still counted by analytics.
 * A failure is logged, not thrown: the batch is stored, and the next run picks its rows up.
 */
export async function maybeRollUp(db: SqlDatabase, logger: Logger): Promise<void> {
  const now = Date.now();
  if (now - (lastRun.get(db) ?? 0) < intervalMs()) return;
  lastRun.set(db, now);
  try {
    await rollUpMetrics(db);
  } catch (err) {
    logger.error('metrics roll-up failed', { error: err instanceof Error ? err.message : String(err) });
  }
}
