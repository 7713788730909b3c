import { histFromCountsSql, histIndexSql } from '../../analytics/latency-hist.js';
import type { Migration } from '../migrations.js';
import { tenantTable } from './rls.js';

const wsSetting = `current_setting('tollgate.workspace_id', true)`;

/**
 * The dimensions an hourly rollup row is keyed by: every analytics filter except trace/span ids,
 * metadata and numeric ranges (those read raw rows). `retry_count` and `rescued_by` are here for the
 * rescued-requests graph, `status`/`success`/`cache_status` for errors and cache graphs.
 */
export const ROLLUP_DIMENSIONS = [
  'workspace_id', 'provider', 'model', 'status', 'success', 'cache_status', 'rescued_by', 'retry_count',
  'api_key_id', 'virtual_key', 'config_id', 'prompt_id',
] as const;

export const ROLLUP_MEASURE_COLUMNS = 'requests, cost, total_units, req_units, res_units, total_ms, min_ms, max_ms, latency_hist, first_at, last_at';

/**
 * `SELECT` of rollup rows (organisation_id, hour, dimensions, measures) from raw rows `source`
 * (which must have the raw columns and `organisation_id`). Two levels: rows are first counted per
 * latency bucket, so the 80 histogram cells are filled from a few dozen groups instead of from
 * every row (that made the rollup the ingest's most expensive part).
 */
export function rollupSelectSql(source: string, ordered = false, extra: readonly string[] = []): string {
  // `extra`: further dimensions placed before the standard ones (the metadata rollups' key and value, migration 67).
  const dims = [...extra, ...ROLLUP_DIMENSIONS];
  return `${rollupFromBucketsSql(`(${perBucketSql(source, dims)}) per_bucket`, extra)}${ordered ? ` ORDER BY organisation_id, hour, ${dims.join(', ')}` : ''}`;
}

/** The first level: raw rows counted per (organisation, hour, `dims`, latency bucket `b`). */
export function perBucketSql(source: string, dims: readonly string[]): string {
  return `SELECT organisation_id, date_trunc('hour', created_at, 'UTC') AS hour, ${dims.join(', ')}, ${histIndexSql('total_ms')} AS b, count(*) AS n,
        sum(cost) AS cost, sum(total_units) AS total_units, sum(req_units) AS req_units, sum(res_units) AS res_units, sum(total_ms) AS total_ms,
        min(total_ms) AS min_ms, max(total_ms) AS max_ms, min(created_at) AS first_at, max(created_at) AS last_at
      FROM ${source} GROUP BY 1, 2, ${dims.join(', ')}, ${3 + dims.length}`;
}

/** The second level: rollup rows (organisation_id, hour, `extra`, dimensions, measures) from per-bucket rows `source`. */
export function rollupFromBucketsSql(source: string, extra: readonly string[] = []): string {
  const dims = [...extra, ...ROLLUP_DIMENSIONS].join(', ');
  return `SELECT organisation_id, hour, ${dims}, sum(n), sum(cost), sum(total_units), sum(req_units), sum(res_units), sum(total_ms),
      min(min_ms), max(max_ms), ${histFromCountsSql('b', 'n')}, min(first_at), max(last_at)
    FROM ${source}
    GROUP BY organisation_id, hour, ${dims}`;
}

/** Rebuilds both rollups from raw rows (this migration's backfill; the 10M-row bench loads the same way). */
export function rollupBackfillStatements(where = 'true'): string[] {
  const dims = ROLLUP_DIMENSIONS.join(', ');
  return [
    `INSERT INTO request_metrics_hourly (organisation_id, hour, ${dims}, ${ROLLUP_MEASURE_COLUMNS})
     ${rollupSelectSql(`(SELECT * FROM request_metrics WHERE ${where}) raw`)}`,
    `INSERT INTO request_metrics_hourly_users (organisation_id, hour, workspace_id, end_user)
     SELECT DISTINCT organisation_id, date_trunc('hour', created_at, 'UTC'), workspace_id, end_user
     FROM request_metrics WHERE end_user IS NOT NULL AND ${where}`,
    `INSERT INTO request_metrics_daily_users (organisation_id, day, workspace_id, end_user)
     SELECT DISTINCT organisation_id, date_trunc('day', created_at, 'UTC'), workspace_id, end_user
     FROM request_metrics WHERE end_user IS NOT NULL AND ${where}`,
  ];
}

/**
 * Hourly rollups of `request_metrics` (issue 6: analytics over 10M rows in < 500 ms). Maintained in
 * the same statement that inserts raw rows, from the rows that statement actually inserted (so a
 * retried batch adds nothing), and read by the analytics graphs when their filters allow.
 * `request_metrics_hourly_users` keeps who was active per hour and workspace, for distinct-user counts
 * (written with DO NOTHING: only the first request of a user in an hour costs a row), and
 * `request_metrics_daily_users` the same per day, so a month of day buckets reads 30 days of users
 * rather than 720 hours of them.
 * No foreign key to `organisations`: the per-row check was a tenth of the ingest statement's time,
 * and these rows are derived from `request_metrics` (which has one). Deleting an organisation's
 * data must include them (there is no organisation deletion yet).
 */
export const m063: Migration = {
  id: 63,
  name: 'observability: hourly metric rollups',
  statements: [
    `CREATE TABLE request_metrics_hourly (
      organisation_id text NOT NULL,
      hour timestamptz NOT NULL,
      workspace_id text,
      provider text,
      model text,
      status integer NOT NULL,
      success boolean NOT NULL,
      cache_status text,
      rescued_by text,
      retry_count integer NOT NULL,
      api_key_id text,
      virtual_key text,
      config_id text,
      prompt_id text,
      requests bigint NOT NULL,
      cost double precision NOT NULL,
      total_units bigint NOT NULL,
      req_units bigint NOT NULL,
      res_units bigint NOT NULL,
      total_ms bigint NOT NULL,
      min_ms integer NOT NULL,
      max_ms integer NOT NULL,
      latency_hist bigint[] NOT NULL,
      first_at timestamptz NOT NULL,
      last_at timestamptz NOT NULL
    )`,
    `CREATE UNIQUE INDEX request_metrics_hourly_key ON request_metrics_hourly (organisation_id, hour, ${ROLLUP_DIMENSIONS.join(', ')}) NULLS NOT DISTINCT`,
    ...tenantTable('request_metrics_hourly', { workspaceColumn: 'workspace_id' }),
    `CREATE TABLE request_metrics_hourly_users (
      organisation_id text NOT NULL,
      hour timestamptz NOT NULL,
      workspace_id text,
      end_user text NOT NULL
    )`,
    `CREATE UNIQUE INDEX request_metrics_hourly_users_key ON request_metrics_hourly_users (organisation_id, hour, workspace_id, end_user) NULLS NOT DISTINCT`,
    ...tenantTable('request_metrics_hourly_users', { workspaceColumn: 'workspace_id' }),
    `CREATE TABLE request_metrics_daily_users (
      organisation_id text NOT NULL,
      day timestamptz NOT NULL,
      workspace_id text,
      end_user text NOT NULL
    )`,
    `CREATE UNIQUE INDEX request_metrics_daily_users_key ON request_metrics_daily_users (organisation_id, day, workspace_id, end_user) NULLS NOT DISTINCT`,
    ...tenantTable('request_metrics_daily_users', { workspaceColumn: 'workspace_id' }),
    ...['request_metrics_hourly', 'request_metrics_hourly_users', 'request_metrics_daily_users'].map(
      (table) =>
        `ALTER POLICY workspace_scope ON ${table} USING (CASE WHEN coalesce(${wsSetting}, '') = '' THEN true ELSE workspace_id = ANY (string_to_array(${wsSetting}, ',')) END)`,
    ),
    // The owner (Aurora's master user is no superuser) reads every organisation's rows only with FORCE off.
    `ALTER TABLE request_metrics NO FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE request_metrics_hourly NO FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE request_metrics_hourly_users NO FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE request_metrics_daily_users NO FORCE ROW LEVEL SECURITY`,
    ...rollupBackfillStatements(),
    `ALTER TABLE request_metrics FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE request_metrics_hourly FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE request_metrics_hourly_users FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE request_metrics_daily_users FORCE ROW LEVEL SECURITY`,
  ],
};
