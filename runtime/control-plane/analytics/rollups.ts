import type { SqlQueryable } from '../../core/db.js';
import type { Filter, Granularity } from './filters.js';
import { METADATA_OBJECT_TABLES } from '../db/schema/069-metadata-object-rollups.js';
import { USER_SET_TABLES } from '../db/schema/069-user-sets.js';
import { addHist, histFromCountsSql, histIndexSql, histPercentile, histSumSql } from './latency-hist.js';

/**
 * Analytics from the hourly rollups (`request_metrics_hourly`, migration 63). A range is read as
 * three parts: whole hours from the rollups, and the partial hours at either end from raw rows,
 * aggregated into the same shape, so answers cover exactly [from, to] as the raw queries do.
 * Raw rows the background roll-up has not folded in yet (`ingest_xid` at or past the watermark,
 * migration 64) are read raw for the whole hours too, in the same statement as the rollups (one
 * snapshot, so a row is counted from exactly one of the two).
 * Counts, sums and averages equal the raw answers; percentiles come from the latency histograms
 * (within one 20% bucket, see latency-hist.ts). A filter on one metadata pair reads the metadata
 * rollups (migration 67) instead, several pairs the metadata-object rollups (69). Queries whose
 * filters the rollups do not key on (trace/span id, numeric ranges) and minute buckets stay on raw rows.
 */
const HOUR = 3_600_000;
const HIT = `cache_status IN ('HIT', 'SEMANTIC HIT', 'SEMANTIC_HIT')`;

/**
 * [hourly, daily] rollups for a filter: keyed by one metadata pair (migration 67), by the whole
 * metadata object for several pairs (69, whose rows `rollupClauses` = `requestClauses` apply to), or
 * plain.
 */
export function rollupTables(filter: Filter): readonly [string, string] {
  if (filter.metadataObjects) return METADATA_OBJECT_TABLES;
  return filter.metadataRollup ? ['request_metrics_hourly_meta', 'request_metrics_daily_meta'] : ['request_metrics_hourly', 'request_metrics_daily'];
}

export interface RollupPlan {
  /** Whole hours [hourFrom, hourTo) come from the rollups. */
  hourFrom: Date;
  hourTo: Date;
}

export function rollupPlan(filter: Filter, g: Granularity): RollupPlan | null {
  if (filter.rawOnly || g === 'minute') return null;
  const hourFrom = Math.ceil(filter.from.getTime() / HOUR) * HOUR;
  const hourTo = Math.floor(filter.to.getTime() / HOUR) * HOUR;
  return hourTo > hourFrom ? { hourFrom: new Date(hourFrom), hourTo: new Date(hourTo) } : null;
}

/**
 * Raw rows not in the rollups yet. The watermark is read in the statement (so it matches the
 * rollups it sees) and also passed as a constant read just before (never later than the one in the
 * statement, so the condition is the same) because the planner estimates a constant, not a subquery,
 * and then walks the ingest_xid index over the few pending rows.
 */
export const pendingSql = (param: string) =>
  `ingest_xid >= ${param}::xid8 AND ingest_xid >= (SELECT rolled_to FROM metric_rollup_state WHERE id = 1)`;

/** The watermark as this transaction sees it now. */
export async function rolledTo(db: SqlQueryable): Promise<string> {
  const { rows } = await db.query<{ w: string }>('SELECT rolled_to::text AS w FROM metric_rollup_state WHERE id = 1');
  return rows[0]?.w ?? '0';
}

const bucketOf = (column: string, g: Granularity) => `(extract(epoch FROM date_trunc('${g}', ${column} AT TIME ZONE 'UTC')) * 1000)::float8`;

interface Source {
  sql: string;
  params: unknown[];
}

/**
 * Rows shaped like rollup rows (bucket, status, success, cache_status, rescued_by, retry_count,
 * requests, cost, total_units, total_ms, min_ms, max_ms, latency_hist) for the whole range. Callers
 * that sum the whole range (no buckets) pass `g = 'day'` so that whole days come from the daily rollups.
 */
function rollupSource(filter: Filter, plan: RollupPlan, g: Granularity, withHist: boolean, watermark: string, countOnly = false): Source {
  const params = [...filter.params, plan.hourFrom.toISOString(), plan.hourTo.toISOString(), watermark];
  const h1 = `$${params.length - 2}::timestamptz`;
  const h2 = `$${params.length - 1}::timestamptz`;
  const pending = pendingSql(`$${params.length}`);
  const where = ['organisation_id = $1', ...filter.workspaceClauses, ...filter.rollupClauses].join(' AND ');
  // One metadata pair: the metadata rollups (migration 67), keyed by that pair and every other dimension.
  const [hourly, daily] = rollupTables(filter);
  const keys = 'status, success, cache_status, rescued_by, retry_count';
  const rollupRows = (table: string, time: string, range: string) =>
    countOnly
      ? `SELECT requests FROM ${table} WHERE ${where} AND ${range}`
      : `SELECT ${bucketOf(time, g)} AS bucket, ${keys}, requests, cost, total_units, total_ms, min_ms, max_ms,
      ${withHist ? 'latency_hist' : 'NULL::bigint[] AS latency_hist'}
    FROM ${table} WHERE ${where} AND ${range}`;
  // Day and week buckets read whole days from the daily rollups and only the hours around them hourly.
  const days = g === 'day' || g === 'week' ? dailyPlan(filter) : null;
  let fromRollups: string;
  if (days) {
    params.push(days.hourFrom.toISOString(), days.hourTo.toISOString());
    const [d1, d2] = [`$${params.length - 1}::timestamptz`, `$${params.length}::timestamptz`];
    fromRollups = [
      rollupRows(daily, 'day', `day >= ${d1} AND day < ${d2}`),
      rollupRows(hourly, 'hour', `hour >= ${h1} AND hour < ${d1}`),
      rollupRows(hourly, 'hour', `hour >= ${d2} AND hour < ${h2}`),
    ].join(' UNION ALL ');
  } else {
    fromRollups = rollupRows(hourly, 'hour', `hour >= ${h1} AND hour < ${h2}`);
  }
  // Each edge is its own index range: one `created_at < h1 OR created_at >= h2` condition made the
  // planner walk the whole [from, to] range of the time index and filter.
  const edge = (range: string) => `SELECT ${bucketOf('created_at', g)} AS bucket, ${keys}, ${histIndexSql('total_ms')} AS b, count(*) AS n, sum(cost) AS cost,
        sum(total_units) AS total_units, sum(total_ms) AS total_ms, min(total_ms) AS min_ms, max(total_ms) AS max_ms
      FROM request_metrics WHERE ${filter.where} AND ${range}
      GROUP BY 1, 2, 3, 4, 5, 6, 7`;
  const rawRanges = [`created_at < ${h1}`, `created_at >= ${h2}`, `created_at >= ${h1} AND created_at < ${h2} AND ${pending}`];
  if (countOnly) {
    // A bare count of the raw edges and pending rows: grouping them as rollup rows costs far more.
    const counts = rawRanges.map((range) => `SELECT count(*) AS requests FROM request_metrics WHERE ${filter.where} AND ${range}`);
    return { sql: `(${fromRollups} UNION ALL ${counts.join(' UNION ALL ')}) src`, params };
  }
  const fromRaw = `SELECT bucket, ${keys}, sum(n) AS requests, sum(cost) AS cost, sum(total_units) AS total_units, sum(total_ms) AS total_ms,
      min(min_ms) AS min_ms, max(max_ms) AS max_ms, ${withHist ? histFromCountsSql('b', 'n') : 'NULL::bigint[]'} AS latency_hist
    FROM (${rawRanges.map(edge).join(' UNION ALL ')}) edge
    GROUP BY 1, 2, 3, 4, 5, 6`;
  return { sql: `(${fromRollups} UNION ALL ${fromRaw}) src`, params };
}

export interface RollupBucket {
  bucket: number;
  requests: number;
  cost: number;
  tokens: number;
  total_ms: number;
  errors: number;
  cache_hits: number;
  simple_hits: number;
  semantic_hits: number;
  hit_ms: number;
  hit_cost: number;
  /** Not a hit, as the raw query's NOT (...) sees it: an unknown cache status is neither. */
  miss_ms: number;
  misses: number;
  rescued_retry: number;
  rescued_fallback: number;
  min_ms: number | null;
  max_ms: number | null;
  latency_hist: (number | string)[] | null;
}

/** Per-bucket sums (and histograms when `withHist`). */
export async function rollupBuckets(db: SqlQueryable, filter: Filter, plan: RollupPlan, g: Granularity, withHist: boolean): Promise<RollupBucket[]> {
  const src = rollupSource(filter, plan, g, withHist, await rolledTo(db));
  const { rows } = await db.query<RollupBucket>(
    `SELECT bucket, sum(requests)::float8 AS requests, sum(cost)::float8 AS cost, sum(total_units)::float8 AS tokens, sum(total_ms)::float8 AS total_ms,
       coalesce(sum(requests) FILTER (WHERE NOT success), 0)::float8 AS errors,
       coalesce(sum(requests) FILTER (WHERE ${HIT}), 0)::float8 AS cache_hits,
       coalesce(sum(requests) FILTER (WHERE cache_status = 'HIT'), 0)::float8 AS simple_hits,
       coalesce(sum(requests) FILTER (WHERE cache_status IN ('SEMANTIC HIT', 'SEMANTIC_HIT')), 0)::float8 AS semantic_hits,
       coalesce(sum(total_ms) FILTER (WHERE ${HIT}), 0)::float8 AS hit_ms,
       coalesce(sum(cost) FILTER (WHERE ${HIT}), 0)::float8 AS hit_cost,
       coalesce(sum(total_ms) FILTER (WHERE NOT (${HIT})), 0)::float8 AS miss_ms,
       coalesce(sum(requests) FILTER (WHERE NOT (${HIT})), 0)::float8 AS misses,
       coalesce(sum(requests) FILTER (WHERE rescued_by = 'retry'), 0)::float8 AS rescued_retry,
       coalesce(sum(requests) FILTER (WHERE rescued_by = 'fallback'), 0)::float8 AS rescued_fallback,
       min(min_ms) AS min_ms, max(max_ms) AS max_ms,
       ${withHist ? histSumSql('latency_hist') : 'NULL::bigint[]'} AS latency_hist
     FROM ${src.sql} GROUP BY bucket`,
    src.params,
  );
  return rows;
}

/** How many requests match over the plan's range: rolled-up counts plus raw edges and pending rows. */
export async function rollupCount(db: SqlQueryable, filter: Filter, plan: RollupPlan): Promise<number> {
  const src = rollupSource(filter, plan, 'day', false, await rolledTo(db), true);
  const { rows } = await db.query<{ total: number | string | null }>(`SELECT sum(requests)::float8 AS total FROM ${src.sql}`, src.params);
  return Number(rows[0]?.total ?? 0);
}

/** Error counts by status (and bucket when `byBucket`). */
export async function rollupErrors(db: SqlQueryable, filter: Filter, plan: RollupPlan, g: Granularity, byBucket: boolean) {
  const src = rollupSource(filter, plan, g, false, await rolledTo(db));
  const { rows } = await db.query<{ bucket: number; status: number; count: number }>(
    `SELECT ${byBucket ? 'bucket' : 'NULL::float8'} AS bucket, status, sum(requests)::int AS count FROM ${src.sql}
     WHERE NOT success GROUP BY 1, 2 ORDER BY count DESC, status`,
    src.params,
  );
  return rows;
}

/** Rescued requests by bucket, how, and retry count. */
export async function rollupRescued(db: SqlQueryable, filter: Filter, plan: RollupPlan, g: Granularity) {
  const src = rollupSource(filter, plan, g, false, await rolledTo(db));
  const { rows } = await db.query<{ bucket: number; rescued_by: string; retry_count: number; count: number }>(
    `SELECT bucket, rescued_by, retry_count, sum(requests)::int AS count FROM ${src.sql} WHERE rescued_by IS NOT NULL GROUP BY 1, 2, 3`,
    src.params,
  );
  return rows;
}

/**
 * Distinct users per bucket and over the range (`bucket` null), from the user rollups (per day
 * for day and week buckets, else per hour) and the raw rows outside whole days/hours. Without
 * request filters the user rollups keyed by workspace are read; with them, the user sets keyed
 * like the rollups or by one metadata pair (migration 69), whose matching rows' sets are unnested.
 * (A metadata pair with another request filter is answered from raw rows, see `series`.)
 */
export async function rollupUsers(db: SqlQueryable, filter: Filter, plan: RollupPlan, g: Granularity) {
  const daily = g === 'day' || g === 'week' ? dailyPlan(filter) : null;
  const params = [...filter.params];
  const p = (d: Date) => {
    params.push(d.toISOString());
    return `$${params.length}::timestamptz`;
  };
  const [h1, h2] = [p(plan.hourFrom), p(plan.hourTo)];
  params.push(await rolledTo(db));
  const pending = pendingSql(`$${params.length}`);
  const sets = filter.requestClauses.length > 0;
  const where = ['organisation_id = $1', ...filter.workspaceClauses, ...(sets ? filter.rollupClauses : [])].join(' AND ');
  const [hourlyTable, dailyTable] = !sets
    ? ['request_metrics_hourly_users', 'request_metrics_daily_users']
    : filter.metadataRollup ? USER_SET_TABLES.meta : USER_SET_TABLES.plain;
  const usersOf = (table: string) => (sets ? `u FROM ${table} CROSS JOIN LATERAL unnest(users) u` : `end_user FROM ${table}`);
  // Buckets stay timestamps until the end: the epoch-ms conversion is numeric arithmetic, a third of
  // this query's time when done for each of ~100,000 rows instead of for each bucket.
  const trunc = (column: string) => `date_trunc('${g}', ${column} AT TIME ZONE 'UTC')`;
  const hours = (range: string) => `SELECT ${trunc('hour')}, ${usersOf(hourlyTable)} WHERE ${where} AND ${range}`;
  const raw = (range: string) => `SELECT ${trunc('created_at')}, end_user FROM request_metrics WHERE ${filter.where} AND end_user IS NOT NULL AND ${range}`;
  const parts = [raw(`created_at < ${h1}`), raw(`created_at >= ${h2}`), raw(`created_at >= ${h1} AND created_at < ${h2} AND ${pending}`)];
  if (daily) {
    const [d1, d2] = [p(daily.hourFrom), p(daily.hourTo)];
    parts.push(
      `SELECT ${trunc('day')}, ${usersOf(dailyTable)} WHERE ${where} AND day >= ${d1} AND day < ${d2}`,
      hours(`hour >= ${h1} AND hour < ${d1}`),
      hours(`hour >= ${d2} AND hour < ${h2}`),
    );
  } else {
    parts.push(hours(`hour >= ${h1} AND hour < ${h2}`));
  }
  const { rows } = await db.query<{ bucket: number | null; users: number }>(
    // De-duplicated once by (bucket, user) with a hash, then counted per bucket and over the range:
    // count(DISTINCT) under GROUPING SETS sorted every part's rows once per grouping set. Byte order
    // ("C") gives the same distinct values under any deterministic collation and compares faster.
    `WITH per AS MATERIALIZED (SELECT DISTINCT bucket, end_user COLLATE "C" AS end_user FROM (${parts.join(' UNION ALL ')}) u(bucket, end_user))
     SELECT (extract(epoch FROM bucket) * 1000)::float8 AS bucket, count(*)::int AS users FROM per GROUP BY per.bucket
     UNION ALL SELECT NULL, count(*)::int FROM (SELECT DISTINCT end_user FROM per) everyone`,
    params,
  );
  return rows;
}

/** Whole UTC days inside the range, or null when there are none (then hourly rows are read). */
export function dailyPlan(filter: Filter): RollupPlan | null {
  const day = 86_400_000;
  const from = Math.ceil(filter.from.getTime() / day) * day;
  const to = Math.floor(filter.to.getTime() / day) * day;
  return to > from ? { hourFrom: new Date(from), hourTo: new Date(to) } : null;
}

/** Percentiles and extremes of a set of buckets. */
export function latencyOf(buckets: readonly RollupBucket[]) {
  const hist: number[] = [];
  let min = Infinity;
  let max = -Infinity;
  for (const b of buckets) {
    addHist(hist, b.latency_hist);
    if (b.min_ms !== null) min = Math.min(min, Number(b.min_ms));
    if (b.max_ms !== null) max = Math.max(max, Number(b.max_ms));
  }
  if (!hist.length || min === Infinity) return { p50: 0, p90: 0, p95: 0, p99: 0 };
  return {
    p50: histPercentile(hist, 0.5, min, max),
    p90: histPercentile(hist, 0.9, min, max),
    p95: histPercentile(hist, 0.95, min, max),
    p99: histPercentile(hist, 0.99, min, max),
  };
}
