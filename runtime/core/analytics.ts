/**
 * The read side of the metrics store, as the analytics API uses it. Postgres/Aurora answers by
 * default (raw rows and rollups); with `TOLLGATE_METRICS_STORE=timestream` the graphs and groups
 * are answered by Timestream for LiveAnalytics instead. Feedback, the log list/search and exports
 * live only in Postgres and never go through this port.
 */

/** Request criteria of one analytics query, store-neutral (the routes parse them once; Postgres also gets SQL for them). */
export interface AnalyticsCriteria {
  organisationId: string;
  from: Date;
  to: Date;
  /** The workspace in scope; null: the whole organisation. */
  workspaceId: string | null;
  /** Any of these; a provider narrows its model. */
  models: { provider?: string; model: string }[];
  providers: string[];
  statuses: number[];
  success?: boolean;
  apiKeyIds: string[];
  virtualKeys: string[];
  traceIds: string[];
  spanIds: string[];
  /** Upper case, as the gateway reports them. */
  cacheStatuses: string[];
  promptIds: string[];
  /** Config ids, slugs already resolved. */
  configIds: string[];
  ranges: { measure: 'cost' | 'total_units' | 'req_units' | 'res_units' | 'total_ms'; min?: number; max?: number }[];
  /** Every pair must match. */
  metadata: [string, string][];
}

export type AnalyticsGraph =
  | 'requests'
  | 'cost'
  | 'tokens'
  | 'latency'
  | 'users'
  | 'users-requests'
  | 'errors'
  | 'errors-rate'
  | 'cache-hit-rate'
  | 'cache-latency';

export type AnalyticsGroupDimension = { column: string; name: string } | { metadataKey: string };

/**
 * Each method answers one analytics route in Portkey's response shape. `F` is the routes' parsed
 * filter; every adapter reads its `criteria`, the Postgres one also its SQL.
 */
export interface AnalyticsSource<F extends { criteria: AnalyticsCriteria } = { criteria: AnalyticsCriteria }> {
  readonly kind: 'postgres' | 'timestream';
  graph(name: AnalyticsGraph, filter: F, granularity: string | undefined): Promise<object>;
  errorsByStatus(filter: F): Promise<object>;
  errorsStack(filter: F, granularity: string | undefined): Promise<object>;
  rescued(filter: F, granularity: string | undefined): Promise<object>;
  cacheSummary(filter: F): Promise<object>;
  /**
   * `feedback`: the weighted feedback per trace id given in the filter's time range (feedback lives
   * in Postgres); a store without it joins it to its requests by trace id. Postgres joins in SQL.
   */
  groupBy(filter: F, dimension: AnalyticsGroupDimension, page: { size: number; current: number }, feedback?: () => Promise<Map<string, number>>): Promise<object>;
}
