import type { SqlQueryable } from '../../core/db.js';
import { granularity, type Filter } from './filters.js';
import { buckets } from './queries.js';
import { rolledTo } from './rollups.js';
import { graph, round } from './shapes.js';

/**
 * Feedback analytics. Feedback graphs take a filter built with `{ alias: 'm', scopeAlias: 'f' }`:
 * feedback in the time range (by when it was given) and workspace, and, when request filters are
 * set (model, metadata, ...), only feedback whose trace has such a request (any request of the
 * trace, at any time). Feedback by model counts each feedback under the model of its trace's latest
 * request, and leaves out feedback whose trace has no request.
 *
 * The requests of traces with feedback are read from `feedback_requests` (migration 68), which the
 * background roll-up keeps for every request that is, together with some feedback of its trace,
 * below the roll-up watermark. The rest comes from the raw tables in the same statement (one
 * snapshot): requests past the watermark, and the requests of feedback past it. Filters the rollups
 * do not take (trace or span id, numeric ranges) keep the direct lookup in
 * `request_metrics`: a trace id is one index probe, and the raw answer is what tests compare with.
 */
const WATERMARK = '(SELECT rolled_to FROM metric_rollup_state WHERE id = 1)';

/**
 * Requests of traces with feedback, as `SELECT ${select}` from three disjoint parts, each over a
 * table aliased `m` and restricted by `where` (which may name the columns with or without `m.`):
 * linked requests, requests past the watermark, and settled requests not linked yet (their trace's
 * feedback is all past the watermark). `wm` is the watermark as a parameter, read just before (see
 * rollups.ts `pendingSql`). The union is every request whose trace has feedback, and possibly
 * pending requests of traces without any, which callers drop by joining to feedback.
 */
export function traceRequestsSql(select: string, where: string, wm: string): string {
  return [
    `SELECT ${select} FROM feedback_requests m WHERE ${where}`,
    `SELECT ${select} FROM request_metrics m WHERE ${where} AND m.trace_id IS NOT NULL AND m.ingest_xid >= ${wm}::xid8 AND m.ingest_xid >= ${WATERMARK}`,
    `SELECT ${select} FROM request_metrics m WHERE ${where}
       AND m.trace_id IN (SELECT pf.trace_id FROM feedback pf WHERE pf.organisation_id = $1 AND pf.link_xid >= ${wm}::xid8 AND pf.link_xid >= ${WATERMARK})
       AND (m.ingest_xid IS NULL OR m.ingest_xid < ${WATERMARK})
       AND NOT EXISTS (SELECT 1 FROM feedback_requests l WHERE l.organisation_id = m.organisation_id AND l.id = m.id)`,
  ].join(' UNION ALL ');
}

interface Scope {
  /** Conditions on `feedback f`. */
  sql: string;
  params: unknown[];
}

/**
 * Feedback in scope, and (with request filters) whose trace has a matching request: a linked one,
 * one past the watermark, or, for the traces of feedback past the watermark (not linked yet), any in
 * `request_metrics`. Written as ORs of uncorrelated `IN`s so that each becomes a hash built once and
 * probed per feedback row: as a semi-join on the union the planner guessed 200 traces and probed the
 * feedback index once per matching request, and a correlated lookup made the estimate large enough
 * for JIT compilation (0.6 s).
 */
async function feedbackScope(db: SqlQueryable, filter: Filter): Promise<Scope> {
  const scope = filter.scopeClauses.join(' AND ');
  if (!filter.requestClauses.length) return { sql: scope, params: filter.params };
  const clauses = filter.requestClauses.join(' AND ');
  const lookup = `EXISTS (SELECT 1 FROM request_metrics m WHERE m.organisation_id = f.organisation_id AND m.trace_id = f.trace_id AND ${clauses})`;
  if (filter.rawOnly) return { sql: `${scope} AND ${lookup}`, params: filter.params };
  const params = [...filter.params, await rolledTo(db)];
  const wm = `$${params.length}::xid8`;
  return {
    sql: `${scope} AND (
      f.trace_id IN (SELECT m.trace_id FROM feedback_requests m WHERE m.organisation_id = $1 AND ${clauses})
      OR f.trace_id IN (SELECT m.trace_id FROM request_metrics m WHERE m.organisation_id = $1 AND m.trace_id IS NOT NULL AND m.ingest_xid >= ${wm} AND m.ingest_xid >= ${WATERMARK} AND ${clauses})
      OR f.trace_id IN (SELECT m.trace_id FROM feedback pf JOIN request_metrics m ON m.organisation_id = pf.organisation_id AND m.trace_id = pf.trace_id
        WHERE pf.organisation_id = $1 AND pf.link_xid >= ${wm} AND pf.link_xid >= ${WATERMARK} AND ${clauses}))`,
    params,
  };
}

export async function feedbackGraph(db: SqlQueryable, filter: Filter, requested: string | undefined, kind: 'total' | 'weighted') {
  const g = granularity(filter, requested);
  const scope = await feedbackScope(db, filter);
  const { rows } = await db.query<{ bucket: number | null; total: number; avg: number }>(
    `SELECT (extract(epoch FROM date_trunc('${g}', f.created_at AT TIME ZONE 'UTC')) * 1000)::float8 AS bucket,
            count(*)::int AS total, coalesce(sum(f.value * f.weight) / nullif(sum(f.weight), 0), 0)::float8 AS avg
     FROM feedback f WHERE ${scope.sql} GROUP BY ROLLUP (1)`,
    scope.params,
  );
  const all = rows.find((r) => r.bucket === null) ?? { total: 0, avg: 0 };
  const map = new Map(rows.filter((r) => r.bucket !== null).map((r) => [Number(r.bucket), r]));
  const points = buckets(filter, g).map((t) => {
    const r = map.get(t);
    return kind === 'total' ? { timestamp: new Date(t).toISOString(), total: r?.total ?? 0 } : { timestamp: new Date(t).toISOString(), avg: round(r?.avg ?? 0, 3) };
  });
  return graph(kind === 'total' ? { total: all.total } : { avg: round(all.avg, 3) }, points);
}

export async function feedbackScores(db: SqlQueryable, filter: Filter) {
  const scope = await feedbackScope(db, filter);
  const { rows } = await db.query<{ score: number; total: number }>(
    `SELECT f.value AS score, count(*)::int AS total FROM feedback f WHERE ${scope.sql} GROUP BY 1 ORDER BY 1`,
    scope.params,
  );
  return graph({ total: rows.reduce((n, r) => n + r.total, 0) }, rows);
}

export async function feedbackByModel(db: SqlQueryable, filter: Filter) {
  const scope = await feedbackScope(db, filter);
  // Ties (two requests of a trace at the same instant) go to the larger id, so the answer is repeatable.
  let rows: { ai_model: string | null; total: number; avg_weighted_feedback: number }[];
  const totals = `count(*)::int AS total, coalesce(sum(value * weight) / nullif(sum(weight), 0), 0)::float8 AS avg_weighted_feedback`;
  if (filter.rawOnly) {
    ({ rows } = await db.query(
      `SELECT latest.model AS ai_model, ${totals} FROM feedback f
       JOIN LATERAL (SELECT model FROM request_metrics r WHERE r.organisation_id = f.organisation_id AND r.trace_id = f.trace_id
         ORDER BY r.created_at DESC, r.id DESC LIMIT 1) latest ON true
       WHERE ${scope.sql} GROUP BY 1 ORDER BY total DESC, ai_model NULLS LAST`,
      scope.params,
    ));
  } else {
    // With request filters the scope has appended the watermark already.
    const params = filter.requestClauses.length ? scope.params : [...filter.params, await rolledTo(db)];
    // Every (feedback, request of its trace) pair, then each feedback's latest request: a hash join
    // of two well-estimated inputs, where a per-trace DISTINCT of the union was estimated at 200 rows.
    ({ rows } = await db.query(
      `SELECT model AS ai_model, ${totals} FROM (
         SELECT DISTINCT ON (f.id) f.value, f.weight, r.model
         FROM feedback f JOIN (${traceRequestsSql('m.trace_id, m.created_at, m.id, m.model', 'm.organisation_id = $1', `$${params.length}`)}) r ON r.trace_id = f.trace_id
         WHERE ${scope.sql}
         ORDER BY f.id, r.created_at DESC, r.id DESC
       ) latest GROUP BY 1 ORDER BY total DESC, ai_model NULLS LAST`,
      params,
    ));
  }
  return graph({}, rows.map((r) => ({ ...r, avg_weighted_feedback: round(r.avg_weighted_feedback, 3) })));
}

/**
 * The groups' feedback columns: the weighted feedback of each trace given in the range, averaged
 * over the group's requests that have some (`filter.where` on the requests, as the raw groups join
 * it). `key` is the group's SQL over a request row; `extraParams` follow the filter's (the metadata
 * key), and the watermark `wm` is appended.
 */
export async function feedbackByGroup(db: SqlQueryable, filter: Filter, key: string, extraWhere: string, extraParams: unknown[], wm: string) {
  const params = [...filter.params, ...extraParams, wm];
  const { rows } = await db.query<{ key: unknown; avg: number | null; n: number }>(
    `WITH fb AS (
       SELECT trace_id AS fb_trace, sum(value * weight) / nullif(sum(weight), 0) AS weighted FROM feedback
       WHERE organisation_id = $1 AND created_at >= $2::timestamptz AND created_at <= $3::timestamptz GROUP BY trace_id
     )
     SELECT r.key, avg(fb.weighted)::float8 AS avg, count(fb.weighted)::int AS n
     FROM fb JOIN (${traceRequestsSql(`${key} AS key, m.trace_id`, `${filter.where}${extraWhere}`, `$${params.length}`)}) r ON r.trace_id = fb.fb_trace
     GROUP BY 1`,
    params,
  );
  return rows;
}
