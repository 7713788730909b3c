import type { Migration } from '../migrations.js';
import { ROLLUP_DIMENSIONS, ROLLUP_MEASURE_COLUMNS, rollupSelectSql } from './063-metric-rollups.js';
import { ROLLUP_ROLE } from './064-rollup-watermark.js';
import { ROLLUP_LOCK_KEY, dailyFromHourlySql } from './065-daily-rollups.js';
import { tenantTable } from './rls.js';

const wsSetting = `current_setting('tollgate.workspace_id', true)`;

/**
 * Raw rows `source` with one row per (string) metadata pair, as `meta_key`, `meta_value` next to
 * the raw columns, for `rollupSelectSql(..., META_DIMENSIONS)`. Ingest only accepts string values;
 * the type test keeps the rollups equal to the raw `metadata @> {"k": "v"}` test if one ever is not.
 */
export function metadataPairsSql(source: string): string {
  return `(SELECT s.*, kv.key AS meta_key, kv.value #>> '{}' AS meta_value
    FROM ${source} s CROSS JOIN LATERAL jsonb_each(s.metadata) kv
    WHERE s.metadata <> '{}'::jsonb AND jsonb_typeof(kv.value) = 'string') pairs`;
}

/**
 * The unique key's columns. Values are indexed by their md5 (ingest allows 1,024-character values,
 * too large for a btree entry next to the other dimensions); lookups compare the hash and the value.
 */
export const META_KEY_COLUMNS = 'meta_key, (md5(meta_value))';

export const META_DIMENSIONS = ['meta_key', 'meta_value'] as const;

const table = (name: string, time: string) => `CREATE TABLE ${name} (
      organisation_id text NOT NULL,
      ${time} timestamptz NOT NULL,
      meta_key text NOT NULL,
      meta_value text NOT NULL,
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
    )`;

const dims = ROLLUP_DIMENSIONS.join(', ');
const TABLES = ['request_metrics_hourly_meta', 'request_metrics_daily_meta'];

/** Fills both metadata rollups from the raw rows matching `where` (this migration's backfill; the 10M-row bench loads the same way). */
export function metadataBackfillStatements(where = 'true'): string[] {
  return [
    `INSERT INTO request_metrics_hourly_meta (organisation_id, hour, meta_key, meta_value, ${dims}, ${ROLLUP_MEASURE_COLUMNS})
     ${rollupSelectSql(metadataPairsSql(`(SELECT * FROM request_metrics WHERE ${where})`), false, META_DIMENSIONS)}`,
    `INSERT INTO request_metrics_daily_meta (organisation_id, day, meta_key, meta_value, ${dims}, ${ROLLUP_MEASURE_COLUMNS})
     ${dailyFromHourlySql('request_metrics_hourly_meta', META_DIMENSIONS)}`,
  ];
}

/**
 * Metadata rollups (issue 6: a metadata key=value filter read raw rows, 0.5–1.4 s over a day of a
 * 10M-row table, far more over a month). Rows are keyed like the hourly/daily rollups plus one
 * metadata pair, so a filter on one pair combined with any rollup filter (model, API key, status,
 * ...) and the group-by-metadata-key endpoint read them; several pairs at once still read raw rows
 * (a row matches only if it has all).
 * Maintained by the background roll-up from the same raw rows as the other rollups; the backfill
 * holds the roll-up's lock and reads only rows below the watermark (those already in the other
 * rollups; rows past it are folded into every rollup by the next roll-up).
 */
export const m067: Migration = {
  id: 67,
  name: 'observability: metadata key/value rollups',
  statements: [
    `SELECT pg_advisory_xact_lock(${ROLLUP_LOCK_KEY})`,
    table('request_metrics_hourly_meta', 'hour'),
    `CREATE UNIQUE INDEX request_metrics_hourly_meta_key ON request_metrics_hourly_meta (organisation_id, ${META_KEY_COLUMNS}, hour, ${dims}) NULLS NOT DISTINCT`,
    table('request_metrics_daily_meta', 'day'),
    `CREATE UNIQUE INDEX request_metrics_daily_meta_key ON request_metrics_daily_meta (organisation_id, ${META_KEY_COLUMNS}, day, ${dims}) NULLS NOT DISTINCT`,
    ...TABLES.flatMap((t) => [
      ...tenantTable(t, { workspaceColumn: 'workspace_id' }),
      `ALTER POLICY workspace_scope ON ${t} USING (CASE WHEN coalesce(${wsSetting}, '') = '' THEN true ELSE workspace_id = ANY (string_to_array(${wsSetting}, ',')) END)`,
      `GRANT SELECT, INSERT, UPDATE ON ${t} TO ${ROLLUP_ROLE}`,
      `CREATE POLICY rollup_write ON ${t} TO ${ROLLUP_ROLE} USING (true) WITH CHECK (true)`,
      `ALTER TABLE ${t} NO FORCE ROW LEVEL SECURITY`,
    ]),
    `ALTER TABLE request_metrics NO FORCE ROW LEVEL SECURITY`,
    ...metadataBackfillStatements(`ingest_xid IS NULL OR ingest_xid < (SELECT rolled_to FROM metric_rollup_state WHERE id = 1)`),
    `ALTER TABLE request_metrics FORCE ROW LEVEL SECURITY`,
    ...TABLES.map((t) => `ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`),
    // Statistics now rather than at the first autovacuum: the planner picks these tables' index by them.
    ...TABLES.map((t) => `ANALYZE ${t}`),
  ],
};
