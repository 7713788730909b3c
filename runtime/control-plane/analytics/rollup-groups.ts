import type { SqlQueryable } from '../../core/db.js';
import type { Filter } from './filters.js';
import { histFromCountsSql, histIndexSql, histPercentile, histSumSql } from './latency-hist.js';
import { feedbackByGroup } from './feedback.js';
import { METADATA_OBJECT_TABLES } from '../db/schema/069-metadata-object-rollups.js';
import { dailyPlan, pendingSql, rolledTo, rollupPlan, rollupTables } from './rollups.js';

/**
 * `/analytics/groups/*` from the rollups (issue 6: a group-by over a month read every raw row of it).
 * A group is a rollup dimension (model, provider, status, API key, ...) or the values of one
 * metadata key (the metadata rollups, migration 67; under a metadata filter, the rollups keyed by
 * the whole metadata object, migration 69). Whole days come from the daily rollups, the
 * hours around them from the hourly ones, the partial hours at the edges and rows past the roll-up
 * watermark from raw rows, in one statement, as the graphs do. Counts, sums, averages, first/last
 * seen equal the raw answers; p95/p99 come from the latency histograms (within one bucket).
 * Feedback given in the range (as the feedback graphs count it) is joined per request through the
 * trace id, to the requests of traces with feedback (feedback.ts, migration 68).
 */
const HIT = `cache_status IN ('HIT', 'SEMANTIC HIT', 'SEMANTIC_HIT')`;

export type GroupDimension = { column: string; name: string } | { metadataKey: string };

export interface GroupRow {
  key: unknown;
  requests: number;
  cost: number;
  total_tokens: number;
  avg_tokens: number;
  avg_input_tokens: number;
  avg_output_tokens: number;
  avg_latency: number;
  p95_latency: number;
  p99_latency: number;
  successes: number;
  error_count: number;
  cache_hits: number;
  first_seen: unknown;
  last_seen: unknown;
  avg_weighted_feedback: number | null;
  requests_with_feedback: number;
  total_groups: number;
}

/** Rollup columns the group key can be read from. */
const ROLLUP_KEYS = new Set(['model', 'provider', 'status', 'api_key_id', 'config_id', 'workspace_id', 'prompt_id', 'virtual_key']);

/** Null when the rollups cannot answer (raw-only filter, user groups, no whole hour). */
export async function rollupGroups(
  db: SqlQueryable,
  filter: Filter,
  dimension: GroupDimension,
  page: { size: number; current: number },
): Promise<GroupRow[] | null> {
  const plan = rollupPlan(filter, 'hour');
  if (!plan) return null;
  const byMeta = 'metadataKey' in dimension;
  if (!byMeta && !ROLLUP_KEYS.has(dimension.column)) return null;
  const params = [...filter.params];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  // The metadata key first, so that it has the same number in the feedback query (which has no time parameters).
  const k = byMeta ? p(dimension.metadataKey) : '';
  const [h1, h2] = [`${p(plan.hourFrom.toISOString())}::timestamptz`, `${p(plan.hourTo.toISOString())}::timestamptz`];
  const watermark = await rolledTo(db);
  const pending = pendingSql(p(watermark));
  let rollupKey: string;
  let rawKey: string;
  let rawExtra = '';
  const where = ['organisation_id = $1', ...filter.workspaceClauses];
  let tables: readonly [string, string];
  if (byMeta && (filter.metadataRollup || filter.metadataObjects)) {
    // A metadata group under a metadata filter: rows that carry both, keyed by the whole object.
    where.push(...filter.requestClauses, `metadata ? ${k}::text`);
    [rollupKey, rawKey, rawExtra] = [`metadata ->> ${k}::text`, `metadata ->> ${k}::text`, ` AND metadata ? ${k}::text`];
    tables = METADATA_OBJECT_TABLES;
  } else if (byMeta) {
    where.push(...filter.rollupClauses, `meta_key = ${k}::text`);
    [rollupKey, rawKey, rawExtra] = ['meta_value', `metadata ->> ${k}::text`, ` AND metadata ? ${k}::text`];
    tables = ['request_metrics_hourly_meta', 'request_metrics_daily_meta'];
  } else {
    where.push(...filter.rollupClauses);
    [rollupKey, rawKey] = [dimension.column, dimension.column];
    tables = rollupTables(filter);
  }
  const rollupRows = (table: string, range: string) => `SELECT ${rollupKey} AS key, success, cache_status, requests, cost, total_units, req_units, res_units,
      total_ms, min_ms, max_ms, latency_hist, first_at, last_at FROM ${table} WHERE ${where.join(' AND ')} AND ${range}`;
  const days = dailyPlan(filter);
  let fromRollups: string;
  if (days) {
    const [d1, d2] = [`${p(days.hourFrom.toISOString())}::timestamptz`, `${p(days.hourTo.toISOString())}::timestamptz`];
    fromRollups = [
      rollupRows(tables[1], `day >= ${d1} AND day < ${d2}`),
      rollupRows(tables[0], `hour >= ${h1} AND hour < ${d1}`),
      rollupRows(tables[0], `hour >= ${d2} AND hour < ${h2}`),
    ].join(' UNION ALL ');
  } else {
    fromRollups = rollupRows(tables[0], `hour >= ${h1} AND hour < ${h2}`);
  }
  const edge = (range: string) => `SELECT ${rawKey} AS key, success, cache_status, ${histIndexSql('total_ms')} AS b, count(*) AS n, sum(cost) AS cost,
      sum(total_units) AS total_units, sum(req_units) AS req_units, sum(res_units) AS res_units, sum(total_ms) AS total_ms,
      min(total_ms) AS min_ms, max(total_ms) AS max_ms, min(created_at) AS first_at, max(created_at) AS last_at
    FROM request_metrics WHERE ${filter.where}${rawExtra} AND ${range} GROUP BY 1, 2, 3, 4`;
  const fromRaw = `SELECT key, success, cache_status, sum(n) AS requests, sum(cost) AS cost, sum(total_units) AS total_units, sum(req_units) AS req_units,
      sum(res_units) AS res_units, sum(total_ms) AS total_ms, min(min_ms) AS min_ms, max(max_ms) AS max_ms, ${histFromCountsSql('b', 'n')} AS latency_hist,
      min(first_at) AS first_at, max(last_at) AS last_at
    FROM (${edge(`created_at < ${h1}`)} UNION ALL ${edge(`created_at >= ${h2}`)} UNION ALL ${edge(`created_at >= ${h1} AND created_at < ${h2} AND ${pending}`)}) e
    GROUP BY 1, 2, 3`;
  type Row = Omit<GroupRow, 'p95_latency' | 'p99_latency' | 'avg_weighted_feedback' | 'requests_with_feedback'> & {
    min_ms: number; max_ms: number; latency_hist: (number | string)[];
  };
  const groups = db.query<Row>(
    `SELECT key, sum(requests)::float8 AS requests, sum(cost)::float8 AS cost, sum(total_units)::float8 AS total_tokens,
       (sum(total_units) / sum(requests))::float8 AS avg_tokens, (sum(req_units) / sum(requests))::float8 AS avg_input_tokens,
       (sum(res_units) / sum(requests))::float8 AS avg_output_tokens, (sum(total_ms) / sum(requests))::float8 AS avg_latency,
       coalesce(sum(requests) FILTER (WHERE success), 0)::float8 AS successes, coalesce(sum(requests) FILTER (WHERE NOT success), 0)::float8 AS error_count,
       coalesce(sum(requests) FILTER (WHERE ${HIT}), 0)::float8 AS cache_hits, min(min_ms) AS min_ms, max(max_ms) AS max_ms,
       ${histSumSql('latency_hist')} AS latency_hist, min(first_at) AS first_seen, max(last_at) AS last_seen, count(*) OVER ()::int AS total_groups
     FROM (${fromRollups} UNION ALL ${fromRaw}) src
     GROUP BY key ORDER BY requests DESC, key NULLS LAST
     LIMIT ${page.size} OFFSET ${page.size * page.current}`,
    params,
  );
  const feedback = feedbackByGroup(db, filter, rawKey, rawExtra, byMeta ? [dimension.metadataKey] : [], watermark);
  const [{ rows }, fb] = await Promise.all([groups, feedback]);
  const fbBy = new Map(fb.map((r) => [r.key, r]));
  return rows.map((r) => {
    const f = fbBy.get(r.key);
    const hist = r.latency_hist.map(Number);
    return {
      ...r,
      p95_latency: histPercentile(hist, 0.95, Number(r.min_ms), Number(r.max_ms)),
      p99_latency: histPercentile(hist, 0.99, Number(r.min_ms), Number(r.max_ms)),
      avg_weighted_feedback: f ? f.avg : null,
      requests_with_feedback: f?.n ?? 0,
    };
  });
}
