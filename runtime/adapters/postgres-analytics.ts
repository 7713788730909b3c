import type { AnalyticsCriteria, AnalyticsSource } from '../core/analytics.js';
import type { SqlQueryable } from '../core/db.js';
import type { Filter } from '../control-plane/analytics/filters.js';
import { cacheSummary, errorsByStatus, errorsStack, groupBy, rescued, series, simpleGraphs } from '../control-plane/analytics/queries.js';

/** Weighted feedback per trace id given in the range (as the Postgres group queries join it), for stores without the feedback table. */
export async function feedbackWeights(db: SqlQueryable, q: AnalyticsCriteria): Promise<Map<string, number>> {
  const { rows } = await db.query<{ trace_id: string; weighted: number | null }>(
    `SELECT trace_id, (sum(value * weight) / nullif(sum(weight), 0))::float8 AS weighted FROM feedback
     WHERE organisation_id = $1 AND created_at >= $2::timestamptz AND created_at <= $3::timestamptz GROUP BY trace_id`,
    [q.organisationId, q.from.toISOString(), q.to.toISOString()],
  );
  return new Map(rows.filter((r) => r.weighted !== null).map((r) => [r.trace_id, Number(r.weighted)]));
}

/** The default analytics source: Postgres/Aurora raw rows and rollups (control-plane/analytics/queries.ts). */
export function postgresAnalytics(db: SqlQueryable): AnalyticsSource<Filter> {
  return {
    kind: 'postgres',
    async graph(name, filter, granularity) {
      const need = name === 'latency' ? 'latency' : name === 'users' || name === 'users-requests' ? 'users' : 'base';
      return simpleGraphs[name](await series(db, filter, granularity, need));
    },
    errorsByStatus: (filter) => errorsByStatus(db, filter),
    errorsStack: (filter, granularity) => errorsStack(db, filter, granularity),
    rescued: (filter, granularity) => rescued(db, filter, granularity),
    cacheSummary: (filter) => cacheSummary(db, filter),
    groupBy: (filter, dimension, page) => groupBy(db, filter, dimension, page),
  };
}
