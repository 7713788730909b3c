import type { Migration } from '../migrations.js';
import { ROLLUP_DIMENSIONS } from './063-metric-rollups.js';
import { ROLLUP_LOCK_KEY } from './065-daily-rollups.js';
import { META_DIMENSIONS, META_KEY_COLUMNS, metadataPairsSql } from './067-metadata-rollups.js';
import { metadataObjectStatements, ROLLUP_DIMENSION_COLUMNS, rollupTableAccess } from './069-metadata-object-rollups.js';

const dims = ROLLUP_DIMENSIONS.join(', ');
/**
 * The metadata sets are keyed by the pair and workspace only: splitting rows keyed by every
 * dimension into pairs cost the ingest +5 ms of Postgres CPU per 1,000 records (~13%); users under
 * a metadata pair together with another request filter read raw rows.
 */
const metaKeys = [...META_DIMENSIONS, 'workspace_id'].join(', ');
export const keysOf = (meta: boolean) => (meta ? metaKeys : dims);

/** The four tables: [hourly, daily] plain and keyed by a metadata pair too. */
export const USER_SET_TABLES = {
  plain: ['request_metrics_hourly_user_sets', 'request_metrics_daily_user_sets'],
  meta: ['request_metrics_hourly_meta_user_sets', 'request_metrics_daily_meta_user_sets'],
} as const;

/**
 * `SELECT organisation_id, hour, [meta_key, meta_value,] dimensions, users` from raw rows `source`:
 * the distinct users of each rollup row's hour. De-duplicated by hashing before the arrays are
 * built (and the split into metadata pairs is done after a first de-duplication): an
 * `array_agg(DISTINCT)` sorted every row by all fifteen keys, most of the roll-up's added cost.
 */
export function userSetsSql(source: string, meta: boolean): string {
  const hourly = meta ? `(${userHoursSql(source)})` : `(SELECT DISTINCT organisation_id, date_trunc('hour', created_at, 'UTC') AS created_at, ${dims}, end_user FROM ${source} r WHERE r.end_user IS NOT NULL)`;
  return meta ? metaUserSetsSql(hourly) : `SELECT organisation_id, created_at AS hour, ${dims}, array_agg(end_user) AS users FROM ${hourly} d GROUP BY organisation_id, created_at, ${dims}`;
}

/**
 * Distinct (organisation, hour as `created_at`, workspace, metadata object, user) of raw rows: the
 * roll-up computes it once for the user rollups and the metadata user sets (one pass over the new rows).
 */
export const userHoursSql = (source: string) =>
  `SELECT DISTINCT organisation_id, date_trunc('hour', created_at, 'UTC') AS created_at, workspace_id, metadata, end_user FROM ${source} r WHERE r.end_user IS NOT NULL`;

/** Metadata user sets from `userHoursSql` rows `source` (a relation that takes an alias). */
export function metaUserSetsSql(source: string): string {
  return `SELECT organisation_id, created_at AS hour, ${metaKeys}, array_agg(end_user) AS users
    FROM (SELECT DISTINCT organisation_id, created_at, ${metaKeys}, end_user FROM ${metadataPairsSql(source)}) d GROUP BY organisation_id, created_at, ${metaKeys}`;
}

/** Daily sets from hourly-shaped sets `source` (organisation_id, hour, keys, users). */
export function dailyUserSetsSql(source: string, meta: boolean): string {
  const keys = keysOf(meta);
  return `SELECT organisation_id, day, ${keys}, array_agg(u) AS users
    FROM (SELECT DISTINCT organisation_id, date_trunc('day', hour, 'UTC') AS day, ${keys}, u FROM ${source} CROSS JOIN LATERAL unnest(users) u) d
    GROUP BY organisation_id, day, ${keys}`;
}

/** Merges an upsert's users into the stored set (hashed, not sorted: the order of a set is never read). */
export const mergeUserSetSql = (t: string) => `SET users = ARRAY(SELECT u FROM unnest(${t}.users || EXCLUDED.users) u GROUP BY u)`;

/** The unique key of a table (after organisation_id). */
export const userSetKey = (meta: boolean, time: 'hour' | 'day') => (meta ? `${META_KEY_COLUMNS}, ${time}, workspace_id` : `${time}, ${dims}`);

/** Fills the four tables from raw rows matching `where` (the backfill; the 10M-row bench loads the same way). */
export function userSetBackfillStatements(where = 'true'): string[] {
  const raw = `(SELECT * FROM request_metrics WHERE ${where})`;
  return [false, true].flatMap((meta) => {
    const [hourly, daily] = meta ? USER_SET_TABLES.meta : USER_SET_TABLES.plain;
    const keys = keysOf(meta);
    return [
      `INSERT INTO ${hourly} (organisation_id, hour, ${keys}, users) ${userSetsSql(raw, meta)}`,
      `INSERT INTO ${daily} (organisation_id, day, ${keys}, users) ${dailyUserSetsSql(hourly, meta)}`,
    ];
  });
}

const table = (name: string, time: string, meta: boolean) =>
  meta
    ? `CREATE TABLE ${name} (organisation_id text NOT NULL, ${time} timestamptz NOT NULL, meta_key text NOT NULL, meta_value text NOT NULL, workspace_id text, users text[] NOT NULL)`
    : `CREATE TABLE ${name} (
      organisation_id text NOT NULL,
      ${time} timestamptz NOT NULL,
${ROLLUP_DIMENSION_COLUMNS}      users text[] NOT NULL
    )`;

/**
 * Distinct users under request filters (issue 6: users and users-requests under a model, metadata
 * or other request filter read raw rows, 1–2 s over a day and 18–40 s over a month at 10M rows).
 * Each row holds the set of users of one rollup row (the same keys as the hourly/daily rollups), or
 * of one metadata pair in a workspace, so those filters answer distinct users exactly: the matching
 * rows' sets are unnested and de-duplicated per bucket. One row per user and key would
 * be 7.7M hourly rows for 10M requests; sets are ~30,000 hourly rows holding the same users.
 * Maintained by the background roll-up (merged, so a user counts once however often they come
 * back); the backfill holds the roll-up's lock and reads only rows below the watermark.
 */
export const m069: Migration = {
  id: 69,
  name: 'observability: user sets per rollup row, metadata-object rollups',
  statements: [
    `SELECT pg_advisory_xact_lock(${ROLLUP_LOCK_KEY})`,
    ...[false, true].flatMap((meta) => {
      const [hourly, daily] = meta ? USER_SET_TABLES.meta : USER_SET_TABLES.plain;
      return [
        table(hourly, 'hour', meta),
        `CREATE UNIQUE INDEX ${hourly}_key ON ${hourly} (organisation_id, ${userSetKey(meta, 'hour')}) NULLS NOT DISTINCT`,
        table(daily, 'day', meta),
        `CREATE UNIQUE INDEX ${daily}_key ON ${daily} (organisation_id, ${userSetKey(meta, 'day')}) NULLS NOT DISTINCT`,
      ];
    }),
    ...[...USER_SET_TABLES.plain, ...USER_SET_TABLES.meta].flatMap(rollupTableAccess),
    `ALTER TABLE request_metrics NO FORCE ROW LEVEL SECURITY`,
    ...userSetBackfillStatements(`ingest_xid IS NULL OR ingest_xid < (SELECT rolled_to FROM metric_rollup_state WHERE id = 1)`),
    `ALTER TABLE request_metrics FORCE ROW LEVEL SECURITY`,
    ...[...USER_SET_TABLES.plain, ...USER_SET_TABLES.meta].flatMap((t) => [`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`, `ANALYZE ${t}`]),
    ...metadataObjectStatements(),
  ],
};
