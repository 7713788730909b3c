import type { SqlQueryable } from '../../core/db.js';
import { granularity, type Filter, type Granularity } from './filters.js';
import { rollupGroups, type GroupDimension, type GroupRow } from './rollup-groups.js';
import { cacheSummaryOf, errorsByStatusGraph, errorsStackGraph, graph, groupList, pct, rescuedGraph, round } from './shapes.js';
import { latencyOf, rollupBuckets, rollupCount, rollupErrors, rollupPlan, rollupRescued, rollupUsers, type RollupBucket, type RollupPlan } from './rollups.js';

/**
 * Analytics over `request_metrics`, in Portkey's response shapes:
 * graphs `{ object: 'analytics-graph', summary, data_points: [{ timestamp, ... }] }` with every
 * bucket of the range present (zeros where there was no traffic), groups
 * `{ object: 'list', total, data: [{ object: 'analytics-group', ... }] }`.
 * Cost is in cents. Latency is the gateway's total time in ms. Cache hit rate is hits / requests (%).
 */
const HIT = `cache_status IN ('HIT', 'SEMANTIC HIT', 'SEMANTIC_HIT')`;

/**
 * Every per-bucket (or whole-range) aggregate the graphs read from raw rows. Percentiles and distinct
 * users each sort the rows, so they are computed only for the graphs that show them (`need`).
 */
const aggregates = (need: SeriesNeed) => `
  count(*)::int AS requests,
  coalesce(sum(cost), 0)::float8 AS cost,
  coalesce(avg(cost), 0)::float8 AS avg_cost,
  coalesce(sum(total_units), 0)::float8 AS tokens,
  coalesce(avg(total_units), 0)::float8 AS avg_tokens,
  coalesce(avg(total_ms), 0)::float8 AS avg_latency,
  ${
    need === 'latency'
      ? `coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY total_ms), 0)::float8 AS p50,
  coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY total_ms), 0)::float8 AS p90,
  coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY total_ms), 0)::float8 AS p95,
  coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY total_ms), 0)::float8 AS p99`
      : '0::float8 AS p50, 0::float8 AS p90, 0::float8 AS p95, 0::float8 AS p99'
  },
  (count(*) FILTER (WHERE NOT success))::int AS errors,
  ${need === 'users' ? '(count(DISTINCT end_user))::int' : '0'} AS users,
  (count(*) FILTER (WHERE ${HIT}))::int AS cache_hits,
  (count(*) FILTER (WHERE cache_status IN ('HIT')))::int AS simple_hits,
  (count(*) FILTER (WHERE cache_status IN ('SEMANTIC HIT', 'SEMANTIC_HIT')))::int AS semantic_hits,
  coalesce(avg(total_ms) FILTER (WHERE ${HIT}), 0)::float8 AS cache_latency,
  coalesce(avg(total_ms) FILTER (WHERE NOT (${HIT})), 0)::float8 AS miss_latency,
  coalesce(sum(cost) FILTER (WHERE ${HIT}), 0)::float8 AS cache_savings,
  (count(*) FILTER (WHERE rescued_by = 'retry'))::int AS rescued_retry,
  (count(*) FILTER (WHERE rescued_by = 'fallback'))::int AS rescued_fallback`;

export interface Aggregates {
  requests: number;
  cost: number;
  avg_cost: number;
  tokens: number;
  avg_tokens: number;
  avg_latency: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  errors: number;
  users: number;
  cache_hits: number;
  simple_hits: number;
  semantic_hits: number;
  cache_latency: number;
  miss_latency: number;
  cache_savings: number;
  rescued_retry: number;
  rescued_fallback: number;
}

const STEP: Record<Exclude<Granularity, 'week'>, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

function truncate(ms: number, g: Granularity): number {
  if (g !== 'week') return Math.floor(ms / STEP[g]) * STEP[g];
  const day = Math.floor(ms / 86_400_000) * 86_400_000;
  const dow = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0, as date_trunc('week')
  return day - dow * 86_400_000;
}

/** Bucket starts from the range's first to its last, so a graph has no holes. */
export function buckets(filter: Pick<Filter, 'from' | 'to'>, g: Granularity): number[] {
  const out: number[] = [];
  const step = g === 'week' ? 7 * 86_400_000 : STEP[g];
  for (let t = truncate(filter.from.getTime(), g); t <= filter.to.getTime() && out.length < 5000; t += step) out.push(t);
  return out;
}


export interface Series {
  g: Granularity;
  summary: Aggregates;
  points: { timestamp: string; a: Aggregates }[];
}

export const ZERO: Aggregates = {
  requests: 0, cost: 0, avg_cost: 0, tokens: 0, avg_tokens: 0, avg_latency: 0, p50: 0, p90: 0, p95: 0, p99: 0, errors: 0, users: 0,
  cache_hits: 0, simple_hits: 0, semantic_hits: 0, cache_latency: 0, miss_latency: 0, cache_savings: 0, rescued_retry: 0, rescued_fallback: 0,
};

/** What a graph reads besides counts and sums: latency percentiles, or distinct users. */
export type SeriesNeed = 'base' | 'latency' | 'users';

export async function series(db: SqlQueryable, filter: Filter, requestedGranularity: string | undefined, need: SeriesNeed = 'base'): Promise<Series> {
  const g = granularity(filter, requestedGranularity);
  const plan = rollupPlan(filter, g);
  // User sets keyed by a metadata pair have no other request dimension, and none are kept per
  // metadata object (migration 69).
  const rawUsers = need === 'users' && (filter.metadataObjects || (filter.metadataRollup && filter.requestClauses.length > 1));
  if (plan && !rawUsers) return rollupSeries(db, filter, g, plan, need);
  const bucketExpr = `(extract(epoch FROM date_trunc('${g}', created_at AT TIME ZONE 'UTC')) * 1000)::float8`;
  // Buckets and the whole range in one scan (two statements read every matching row twice).
  const { rows } = await db.query<Aggregates & { bucket: number | null }>(
    `SELECT ${bucketExpr} AS bucket, ${aggregates(need)} FROM request_metrics WHERE ${filter.where} GROUP BY ROLLUP (1)`,
    filter.params,
  );
  const map = new Map(rows.filter((r) => r.bucket !== null).map((r) => [Number(r.bucket), r]));
  return {
    g,
    summary: rows.find((r) => r.bucket === null) ?? ZERO,
    points: buckets(filter, g).map((t) => ({ timestamp: new Date(t).toISOString(), a: map.get(t) ?? ZERO })),
  };
}

/** Aggregates of one or more rollup buckets (sums add up; averages and percentiles are taken after). */
function fromRollup(list: readonly RollupBucket[], users: number, withLatency: boolean): Aggregates {
  let requests = 0, cost = 0, tokens = 0, totalMs = 0, errors = 0, hits = 0, simple = 0, semantic = 0, hitMs = 0, hitCost = 0, missMs = 0, misses = 0, retry = 0, fallback = 0;
  for (const b of list) {
    requests += b.requests;
    cost += b.cost;
    tokens += b.tokens;
    totalMs += b.total_ms;
    errors += b.errors;
    hits += b.cache_hits;
    simple += b.simple_hits;
    semantic += b.semantic_hits;
    hitMs += b.hit_ms;
    hitCost += b.hit_cost;
    missMs += b.miss_ms;
    misses += b.misses;
    retry += b.rescued_retry;
    fallback += b.rescued_fallback;
  }
  if (!requests) return { ...ZERO, users };
  const latency = withLatency ? latencyOf(list) : { p50: 0, p90: 0, p95: 0, p99: 0 };
  return {
    requests, cost, avg_cost: cost / requests, tokens, avg_tokens: tokens / requests, avg_latency: totalMs / requests, ...latency,
    errors, users, cache_hits: hits, simple_hits: simple, semantic_hits: semantic,
    cache_latency: hits ? hitMs / hits : 0, miss_latency: misses ? missMs / misses : 0,
    cache_savings: hitCost, rescued_retry: retry, rescued_fallback: fallback,
  };
}

async function rollupSeries(db: SqlQueryable, filter: Filter, g: Granularity, plan: RollupPlan, need: SeriesNeed): Promise<Series> {
  const rows = await rollupBuckets(db, filter, plan, g, need === 'latency');
  const users = need === 'users' ? await rollupUsers(db, filter, plan, g) : [];
  const usersBy = new Map(users.filter((u) => u.bucket !== null).map((u) => [Number(u.bucket), u.users]));
  const byBucket = new Map(rows.map((r) => [Number(r.bucket), r]));
  return {
    g,
    summary: fromRollup(rows, users.find((u) => u.bucket === null)?.users ?? 0, need === 'latency'),
    points: buckets(filter, g).map((t) => {
      const r = byBucket.get(t);
      return { timestamp: new Date(t).toISOString(), a: r ? fromRollup([r], usersBy.get(t) ?? 0, need === 'latency') : ZERO };
    }),
  };
}

/** The graphs computed from the shared aggregates, by name (both Portkey's SDK and API path spellings). */
export const simpleGraphs: Record<string, (s: Series) => object> = {
  requests: (s) => graph({ total: s.summary.requests }, s.points.map((p) => ({ timestamp: p.timestamp, total: p.a.requests }))),
  cost: (s) =>
    graph(
      { total: round(s.summary.cost, 8), avg: round(s.summary.avg_cost, 8) },
      s.points.map((p) => ({ timestamp: p.timestamp, total: round(p.a.cost, 8), avg: round(p.a.avg_cost, 8) })),
    ),
  tokens: (s) =>
    graph(
      { total: s.summary.tokens, avg: round(s.summary.avg_tokens, 2) },
      s.points.map((p) => ({ timestamp: p.timestamp, total: p.a.tokens, avg: round(p.a.avg_tokens, 2) })),
    ),
  latency: (s) => {
    const l = (a: Aggregates) => ({ avg: round(a.avg_latency, 2), p50: round(a.p50, 2), p90: round(a.p90, 2), p95: round(a.p95, 2), p99: round(a.p99, 2) });
    return graph(l(s.summary), s.points.map((p) => ({ timestamp: p.timestamp, ...l(p.a) })));
  },
  users: (s) => graph({ total: s.summary.users }, s.points.map((p) => ({ timestamp: p.timestamp, total: p.a.users }))),
  'users-requests': (s) =>
    graph(
      { total: s.summary.requests, unique: s.summary.users, avg: s.summary.users ? round(s.summary.requests / s.summary.users, 2) : 0 },
      s.points.map((p) => ({ timestamp: p.timestamp, avg: p.a.users ? round(p.a.requests / p.a.users, 2) : 0 })),
    ),
  errors: (s) => graph({ total: s.summary.errors }, s.points.map((p) => ({ timestamp: p.timestamp, total: p.a.errors }))),
  'errors-rate': (s) =>
    graph({ rate: pct(s.summary.errors, s.summary.requests) }, s.points.map((p) => ({ timestamp: p.timestamp, rate: pct(p.a.errors, p.a.requests) }))),
  'cache-hit-rate': (s) => {
    let savings = 0;
    return graph(
      { total: s.summary.cache_hits, rate: pct(s.summary.cache_hits, s.summary.requests) },
      s.points.map((p) => {
        savings += p.a.cache_savings;
        return {
          timestamp: p.timestamp,
          simple_hits: p.a.simple_hits,
          semantic_hits: p.a.semantic_hits,
          rate: pct(p.a.cache_hits, p.a.requests),
          cumulative_simple_cache_savings: round(savings, 8),
          cumulative_semantic_cache_savings: 0,
        };
      }),
    );
  },
  'cache-latency': (s) =>
    graph({ avg: round(s.summary.cache_latency, 2) }, s.points.map((p) => ({ timestamp: p.timestamp, avg: round(p.a.cache_latency, 2) }))),
};

/** How many requests match: from the rollups when they can answer (a log list's total over a month counted every raw row). */
export async function requestCount(db: SqlQueryable, filter: Filter): Promise<number> {
  const plan = rollupPlan(filter, 'hour');
  if (plan) return rollupCount(db, filter, plan);
  const { rows } = await db.query<{ total: number }>(`SELECT count(*)::int AS total FROM request_metrics WHERE ${filter.where}`, filter.params);
  return Number(rows[0]?.total ?? 0);
}

export async function errorsByStatus(db: SqlQueryable, filter: Filter) {
  const plan = rollupPlan(filter, 'hour');
  const { rows } = plan
    ? { rows: await rollupErrors(db, filter, plan, 'day', false) }
    : await db.query<{ status: number; count: number }>(
        `SELECT status, count(*)::int AS count FROM request_metrics WHERE ${filter.where} AND NOT success GROUP BY status ORDER BY count DESC, status`,
        filter.params,
      );
  return errorsByStatusGraph(rows);
}

export async function errorsStack(db: SqlQueryable, filter: Filter, requested: string | undefined) {
  const g = granularity(filter, requested);
  const plan = rollupPlan(filter, g);
  const { rows } = plan
    ? { rows: await rollupErrors(db, filter, plan, g, true) }
    : await db.query<{ bucket: number; status: number; count: number }>(
        `SELECT (extract(epoch FROM date_trunc('${g}', created_at AT TIME ZONE 'UTC')) * 1000)::float8 AS bucket, status, count(*)::int AS count
         FROM request_metrics WHERE ${filter.where} AND NOT success GROUP BY 1, 2 ORDER BY count DESC, status`,
        filter.params,
      );
  return errorsStackGraph(buckets(filter, g), rows);
}

export async function rescued(db: SqlQueryable, filter: Filter, requested: string | undefined) {
  const g = granularity(filter, requested);
  const plan = rollupPlan(filter, g);
  const { rows } = plan
    ? { rows: await rollupRescued(db, filter, plan, g) }
    : await db.query<{ bucket: number; rescued_by: string; retry_count: number; count: number }>(
        `SELECT (extract(epoch FROM date_trunc('${g}', created_at AT TIME ZONE 'UTC')) * 1000)::float8 AS bucket, rescued_by, retry_count, count(*)::int AS count
         FROM request_metrics WHERE ${filter.where} AND rescued_by IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        filter.params,
      );
  return rescuedGraph(buckets(filter, g), rows);
}

export async function cacheSummary(db: SqlQueryable, filter: Filter) {
  const plan = rollupPlan(filter, 'hour');
  const a = plan
    ? fromRollup(await rollupBuckets(db, filter, plan, 'day', false), 0, false)
    : ((await db.query<Aggregates>(`SELECT ${aggregates('base')} FROM request_metrics WHERE ${filter.where}`, filter.params)).rows[0] ?? ZERO);
  return cacheSummaryOf(a);
}

/** Group-by dimensions of `/analytics/groups/{groupBy}`. */
export const GROUP_COLUMNS: Record<string, { column: string; name: string }> = {
  model: { column: 'model', name: 'model' },
  'ai-models': { column: 'model', name: 'ai_model' },
  ai_model: { column: 'model', name: 'ai_model' },
  ai_service: { column: 'provider', name: 'ai_service' },
  provider: { column: 'provider', name: 'provider' },
  status_code: { column: 'status', name: 'status_code' },
  api_key: { column: 'api_key_id', name: 'api_key' },
  config: { column: 'config_id', name: 'config' },
  workspace: { column: 'workspace_id', name: 'workspace' },
  prompt: { column: 'prompt_id', name: 'prompt' },
  users: { column: 'end_user', name: 'user' },
  virtual_key: { column: 'virtual_key', name: 'virtual_key' },
};

export async function groupBy(db: SqlQueryable, filter: Filter, dimension: GroupDimension, page: { size: number; current: number }) {
  const rows = (await rollupGroups(db, filter, dimension, page)) ?? (await rawGroups(db, filter, dimension, page));
  return groupList(rows, dimension);
}

/** Groups from raw rows: filters or groups (users) the rollups do not key on. */
async function rawGroups(db: SqlQueryable, filter: Filter, dimension: GroupDimension, page: { size: number; current: number }): Promise<GroupRow[]> {
  const params = [...filter.params];
  let expr: string;
  let extraWhere = '';
  if ('metadataKey' in dimension) {
    params.push(dimension.metadataKey);
    expr = `metadata ->> $${params.length}`;
    extraWhere = ` AND metadata ? $${params.length}`;
  } else {
    expr = dimension.column;
  }
  const { rows } = await db.query<GroupRow>(
    // Each request's trace feedback (given in the range) by an index probe: joined to the feedback
    // of the base's traces, a base misestimated at one row (several correlated filters) became a
    // nested loop over every pair (4 s for a day of one model and metadata pair at 10M rows).
    `WITH base AS (
       SELECT *, (SELECT sum(f.value * f.weight) / nullif(sum(f.weight), 0) FROM feedback f
                  WHERE f.organisation_id = $1 AND f.trace_id = m.trace_id AND f.created_at >= $2::timestamptz AND f.created_at <= $3::timestamptz) AS weighted
       FROM request_metrics m WHERE ${filter.where}${extraWhere}
     )
     SELECT ${expr} AS key,
       count(*)::int AS requests,
       coalesce(sum(cost), 0)::float8 AS cost,
       coalesce(sum(total_units), 0)::float8 AS total_tokens,
       coalesce(avg(total_units), 0)::float8 AS avg_tokens,
       coalesce(avg(req_units), 0)::float8 AS avg_input_tokens,
       coalesce(avg(res_units), 0)::float8 AS avg_output_tokens,
       coalesce(avg(total_ms), 0)::float8 AS avg_latency,
       coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY total_ms), 0)::float8 AS p95_latency,
       coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY total_ms), 0)::float8 AS p99_latency,
       (count(*) FILTER (WHERE success))::int AS successes,
       (count(*) FILTER (WHERE NOT success))::int AS error_count,
       (count(*) FILTER (WHERE ${HIT}))::int AS cache_hits,
       max(created_at) AS last_seen,
       min(created_at) AS first_seen,
       avg(weighted)::float8 AS avg_weighted_feedback,
       count(weighted)::int AS requests_with_feedback,
       count(*) OVER ()::int AS total_groups
     FROM base
     GROUP BY 1 ORDER BY requests DESC, key NULLS LAST
     LIMIT ${page.size} OFFSET ${page.size * page.current}`,
    params,
  );
  return rows;
}
