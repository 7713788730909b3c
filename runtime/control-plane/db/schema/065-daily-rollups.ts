import { histSumSql } from '../../analytics/latency-hist.js';
import type { Migration } from '../migrations.js';
import { ROLLUP_DIMENSIONS, ROLLUP_MEASURE_COLUMNS } from './063-metric-rollups.js';
import { ROLLUP_ROLE } from './064-rollup-watermark.js';
import { tenantTable } from './rls.js';

const wsSetting = `current_setting('tollgate.workspace_id', true)`;
/** The advisory lock the background roll-up holds while it runs (analytics/rollup-job.ts). */
export const ROLLUP_LOCK_KEY = 7_302_064;

/**
 * `SELECT` of daily rollup rows from hourly-shaped rows `source` (organisation_id, hour, dimensions,
 * measures): a day is the sum of its hours, histograms element by element.
 */
export function dailyFromHourlySql(source: string, extra: readonly string[] = []): string {
  const dims = [...extra, ...ROLLUP_DIMENSIONS].join(', ');
  return `SELECT organisation_id, date_trunc('day', hour, 'UTC') AS day, ${dims}, sum(requests), sum(cost), sum(total_units), sum(req_units),
      sum(res_units), sum(total_ms), min(min_ms), max(max_ms), ${histSumSql('latency_hist')}, min(first_at), max(last_at)
    FROM ${source} GROUP BY 1, 2, ${dims}`;
}

/**
 * Daily rollups (issue 6: 30-day graphs read ~70 hourly rows per hour, 49,000 rows whose latency
 * histograms were summed cell by cell; a day is one row per dimension combination). Maintained by
 * the background roll-up from the same per-hour aggregate it adds to the hourly table, so both
 * always cover the same raw rows (those below the watermark). The backfill holds the roll-up's
 * lock so that no roll-up adds hours between reading the hourly table and committing.
 */
export const m065: Migration = {
  id: 65,
  name: 'observability: daily metric rollups',
  statements: [
    `SELECT pg_advisory_xact_lock(${ROLLUP_LOCK_KEY})`,
    `CREATE TABLE request_metrics_daily (
      organisation_id text NOT NULL,
      day timestamptz NOT NULL,
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
    `CREATE UNIQUE INDEX request_metrics_daily_key ON request_metrics_daily (organisation_id, day, ${ROLLUP_DIMENSIONS.join(', ')}) NULLS NOT DISTINCT`,
    ...tenantTable('request_metrics_daily', { workspaceColumn: 'workspace_id' }),
    `ALTER POLICY workspace_scope ON request_metrics_daily USING (CASE WHEN coalesce(${wsSetting}, '') = '' THEN true ELSE workspace_id = ANY (string_to_array(${wsSetting}, ',')) END)`,
    `GRANT SELECT, INSERT, UPDATE ON request_metrics_daily TO ${ROLLUP_ROLE}`,
    `CREATE POLICY rollup_write ON request_metrics_daily TO ${ROLLUP_ROLE} USING (true) WITH CHECK (true)`,
    `ALTER TABLE request_metrics_hourly NO FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE request_metrics_daily NO FORCE ROW LEVEL SECURITY`,
    `INSERT INTO request_metrics_daily (organisation_id, day, ${ROLLUP_DIMENSIONS.join(', ')}, ${ROLLUP_MEASURE_COLUMNS})
     ${dailyFromHourlySql('request_metrics_hourly')}`,
    `ALTER TABLE request_metrics_hourly FORCE ROW LEVEL SECURITY`,
    `ALTER TABLE request_metrics_daily FORCE ROW LEVEL SECURITY`,
  ],
};
