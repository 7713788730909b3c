import type { AnalyticsSource } from '../core/analytics.js';
import type { SqlQueryable } from '../core/db.js';
import type { Filter } from '../control-plane/analytics/filters.js';
import { cacheSummary, errorsByStatus, errorsStack, groupBy, rescued, series, simpleGraphs } from '../control-plane/analytics/queries.js';

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
