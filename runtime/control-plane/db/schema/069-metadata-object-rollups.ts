import { ROLLUP_DIMENSIONS, ROLLUP_MEASURE_COLUMNS, rollupSelectSql } from './063-metric-rollups.js';
import { ROLLUP_ROLE } from './064-rollup-watermark.js';
import { dailyFromHourlySql } from './065-daily-rollups.js';
import { tenantTable } from './rls.js';

const wsSetting = `current_setting('tollgate.workspace_id', true)`;
const dims = ROLLUP_DIMENSIONS.join(', ');

/** The rollups' dimension columns (063's order), as a CREATE TABLE's lines; migration 69's tables share them. */
export const ROLLUP_DIMENSION_COLUMNS = `      workspace_id text,
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
`;

/**
 * A rollup table's access, as 063/067 set it up: tenant RLS scoped to the workspace list, written
 * by the roll-up role (which the backfill's NO FORCE lets the migration write past RLS; the caller
 * forces RLS again after it).
 */
export const rollupTableAccess = (t: string): string[] => [
  ...tenantTable(t, { workspaceColumn: 'workspace_id' }),
  `ALTER POLICY workspace_scope ON ${t} USING (CASE WHEN coalesce(${wsSetting}, '') = '' THEN true ELSE workspace_id = ANY (string_to_array(${wsSetting}, ',')) END)`,
  `GRANT SELECT, INSERT, UPDATE ON ${t} TO ${ROLLUP_ROLE}`,
  `CREATE POLICY rollup_write ON ${t} TO ${ROLLUP_ROLE} USING (true) WITH CHECK (true)`,
  `ALTER TABLE ${t} NO FORCE ROW LEVEL SECURITY`,
];

export const METADATA_OBJECT_TABLES = ['request_metrics_hourly_metaobj', 'request_metrics_daily_metaobj'] as const;

/** The unique key after organisation_id: objects by their hash (a btree entry cannot hold a large object). */
export const metadataObjectKey = (time: 'hour' | 'day') => `(md5(metadata::text)), ${time}, ${dims}`;

const table = (name: string, time: string) => `CREATE TABLE ${name} (
      organisation_id text NOT NULL,
      ${time} timestamptz NOT NULL,
      metadata jsonb NOT NULL,
${ROLLUP_DIMENSION_COLUMNS}      requests bigint NOT NULL,
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

/** Fills both tables from the raw rows matching `where` (the backfill; the 10M-row bench loads the same way). */
export function metadataObjectBackfillStatements(where = 'true'): string[] {
  return [
    `INSERT INTO ${METADATA_OBJECT_TABLES[0]} (organisation_id, hour, metadata, ${dims}, ${ROLLUP_MEASURE_COLUMNS})
     ${rollupSelectSql(`(SELECT * FROM request_metrics WHERE ${where}) raw`, false, ['metadata'])}`,
    `INSERT INTO ${METADATA_OBJECT_TABLES[1]} (organisation_id, day, metadata, ${dims}, ${ROLLUP_MEASURE_COLUMNS})
     ${dailyFromHourlySql(METADATA_OBJECT_TABLES[0], ['metadata'])}`,
  ];
}

/**
 * Rollups keyed by the request's whole metadata object (and every other dimension), part of
 * migration 69. Two or more metadata pairs at once, or a metadata group under a metadata filter,
 * need rows that carry both pairs; the pair rollups (67) cannot tell, so these read raw rows (over a
 * month at 10M rows, seconds). `metadata @> {...}` and `metadata ->> key` apply to these rows as to
 * raw rows. The roll-up already counts its new rows per metadata object (`pre`), so keeping them
 * costs one more upsert. As large as the number of distinct metadata objects: metadata holding a
 * per-request value makes this table (like the pair rollups) approach the raw table's size.
 */
export function metadataObjectStatements(): string[] {
  return [
    table(METADATA_OBJECT_TABLES[0], 'hour'),
    `CREATE UNIQUE INDEX ${METADATA_OBJECT_TABLES[0]}_key ON ${METADATA_OBJECT_TABLES[0]} (organisation_id, ${metadataObjectKey('hour')}) NULLS NOT DISTINCT`,
    `CREATE INDEX ${METADATA_OBJECT_TABLES[0]}_time ON ${METADATA_OBJECT_TABLES[0]} (organisation_id, hour)`,
    table(METADATA_OBJECT_TABLES[1], 'day'),
    `CREATE UNIQUE INDEX ${METADATA_OBJECT_TABLES[1]}_key ON ${METADATA_OBJECT_TABLES[1]} (organisation_id, ${metadataObjectKey('day')}) NULLS NOT DISTINCT`,
    `CREATE INDEX ${METADATA_OBJECT_TABLES[1]}_time ON ${METADATA_OBJECT_TABLES[1]} (organisation_id, day)`,
    ...METADATA_OBJECT_TABLES.flatMap(rollupTableAccess),
    `ALTER TABLE request_metrics NO FORCE ROW LEVEL SECURITY`,
    ...metadataObjectBackfillStatements(`ingest_xid IS NULL OR ingest_xid < (SELECT rolled_to FROM metric_rollup_state WHERE id = 1)`),
    `ALTER TABLE request_metrics FORCE ROW LEVEL SECURITY`,
    ...METADATA_OBJECT_TABLES.flatMap((t) => [`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`, `ANALYZE ${t}`]),
  ];
}
