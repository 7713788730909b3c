import { DescribeEndpointsCommand, QueryCommand, TimestreamQueryClient, type TimestreamQueryClientConfig } from '@aws-sdk/client-timestream-query';
import type { AnalyticsCriteria, AnalyticsGroupDimension, AnalyticsSource } from '../core/analytics.js';
import { granularity, type Granularity } from '../control-plane/analytics/filters.js';
import { buckets, simpleGraphs, ZERO, type Aggregates, type Series } from '../control-plane/analytics/queries.js';
import type { GroupRow } from '../control-plane/analytics/rollup-groups.js';
import { cacheSummaryOf, errorsByStatusGraph, errorsStackGraph, groupList, rescuedGraph } from '../control-plane/analytics/shapes.js';
import { metadataDimension } from './timestream-metrics.js';
import { timestreamClientResolver } from './timestream-endpoint.js';

/**
 * Analytics graphs and groups read from Timestream for LiveAnalytics (`TOLLGATE_METRICS_STORE=timestream`),
 * over the records timestream-metrics.ts writes: one multi-measure record `request` per request,
 * ids as dimensions, metadata as `md_<key>` dimensions.
 *
 * Every filter value is a user's: it only ever reaches the SQL as a string literal with its quotes
 * doubled (Timestream, like Presto, has no backslash escapes), and names as double-quoted
 * identifiers. A column the table has never received (a metadata key nobody sent, a dimension
 * added after old records were written) would be an error in Timestream, so the table's columns
 * are read with DESCRIBE and a missing one reads as NULL.
 *
 * Latency percentiles are `approx_percentile` (Timestream has no exact percentile). Feedback lives
 * in Postgres only: groups join it through the trace ids the route hands over.
 */
export interface TimestreamAnalyticsOptions {
  database: string;
  table: string;
  client?: TimestreamQueryClientConfig;
  /** As for the writer: where DescribeEndpoints is asked (tests, VPC endpoints); the SDK discovers it otherwise. */
  discoveryEndpoint?: string;
  /** Rows per result page (Timestream's MaxRows); the adapter follows NextToken to the end. */
  maxRows?: number;
  /** How long DESCRIBE's column list is trusted. @default 60 s */
  columnsTtlMs?: number;
}

type Row = Record<string, string | null>;

const HIT_VALUES = ['HIT', 'SEMANTIC HIT', 'SEMANTIC_HIT'];

/** A Timestream string literal: single quotes doubled, nothing else is special. */
export function literal(value: string): string {
  if (value.includes('\u0000')) throw new Error('a filter value may not contain NUL');
  return `'${value.replace(/'/g, "''")}'`;
}

export function identifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const BUCKET: Record<Granularity, string> = {
  minute: 'bin("time", 1m)',
  hour: 'bin("time", 1h)',
  day: 'bin("time", 1d)',
  // bin() aligns to the epoch (a Thursday); Postgres' weeks start on Monday, as date_trunc's do.
  week: `date_trunc('week', "time")`,
};

const MEASURE_TYPES: Record<string, string> = {
  cost: 'DOUBLE', total_ms: 'BIGINT', req_units: 'BIGINT', res_units: 'BIGINT', total_units: 'BIGINT', retry_count: 'BIGINT', success: 'BOOLEAN',
};

export function timestreamAnalytics(opts: TimestreamAnalyticsOptions): AnalyticsSource & { query(sql: string): Promise<Row[]>; close(): Promise<void> } {
  const clients = timestreamClientResolver({
    discoveryEndpoint: opts.discoveryEndpoint,
    create: (endpoint) => new TimestreamQueryClient({ ...opts.client, ...(endpoint ? { endpoint } : {}) }),
    describe: (client) => client.send(new DescribeEndpointsCommand({})),
  });
  const table = `${identifier(opts.database)}.${identifier(opts.table)}`;

  /** Runs one statement to its last page; every value comes back as its scalar string (or null). */
  async function query(sql: string): Promise<Row[]> {
    const c = await clients.get();
    const out: Row[] = [];
    let token: string | undefined;
    do {
      const res = await c.send(new QueryCommand({ QueryString: sql, NextToken: token, MaxRows: opts.maxRows }));
      const names = (res.ColumnInfo ?? []).map((col) => col.Name ?? '');
      for (const row of res.Rows ?? []) {
        const r: Row = {};
        (row.Data ?? []).forEach((d, i) => (r[names[i]] = d.NullValue ? null : (d.ScalarValue ?? null)));
        out.push(r);
      }
      token = res.NextToken;
    } while (token);
    return out;
  }

  let columns: Promise<Set<string>> | undefined;
  let columnsAt = 0;
  const knownColumns = (): Promise<Set<string>> => {
    if (!columns || Date.now() - columnsAt > (opts.columnsTtlMs ?? 60_000)) {
      columnsAt = Date.now();
      columns = query(`DESCRIBE ${table}`).then((rows) => new Set(rows.map((r) => r.Column ?? Object.values(r)[0] ?? '')));
      columns.catch(() => (columns = undefined));
    }
    return columns;
  };

  /** A column reference, or a typed NULL when the table has never had that column. */
  const col = (cols: Set<string>, name: string) => (cols.has(name) ? identifier(name) : `CAST(NULL AS ${MEASURE_TYPES[name] ?? 'VARCHAR'})`);

  function where(cols: Set<string>, q: AnalyticsCriteria): string {
    const c = (name: string) => col(cols, name);
    const inList = (name: string, values: readonly string[]) => `${c(name)} IN (${values.map(literal).join(', ')})`;
    const parts = [
      `"measure_name" = 'request'`,
      `"time" BETWEEN from_iso8601_timestamp(${literal(q.from.toISOString())}) AND from_iso8601_timestamp(${literal(q.to.toISOString())})`,
      `${c('organisation_id')} = ${literal(q.organisationId)}`,
    ];
    if (q.workspaceId) parts.push(`${c('workspace_id')} = ${literal(q.workspaceId)}`);
    if (q.models.length) {
      parts.push(`(${q.models.map((m) => (m.provider ? `(${c('provider')} = ${literal(m.provider)} AND ${c('model')} = ${literal(m.model)})` : `${c('model')} = ${literal(m.model)}`)).join(' OR ')})`);
    }
    const lists: [string, readonly string[]][] = [
      ['provider', q.providers], ['status', q.statuses.map(String)], ['api_key_id', q.apiKeyIds], ['virtual_key', q.virtualKeys], ['trace_id', q.traceIds],
      ['span_id', q.spanIds], ['cache_status', q.cacheStatuses], ['prompt_id', q.promptIds], ['config_id', q.configIds],
    ];
    for (const [name, values] of lists) if (values.length) parts.push(inList(name, values));
    if (q.success !== undefined) parts.push(q.success ? c('success') : `NOT ${c('success')}`);
    for (const r of q.ranges) {
      // Numbers were parsed as finite numbers by the route; String() of one is a plain SQL numeral.
      if (r.min !== undefined) parts.push(`${c(r.measure)} >= ${Number(r.min)}`);
      if (r.max !== undefined) parts.push(`${c(r.measure)} <= ${Number(r.max)}`);
    }
    for (const [k, v] of q.metadata) parts.push(`${c(metadataDimension(k))} = ${literal(v)}`);
    return parts.join(' AND ');
  }

  function aggregates(cols: Set<string>): string {
    const c = (name: string) => col(cols, name);
    const hit = `${c('cache_status')} IN (${HIT_VALUES.map(literal).join(', ')})`;
    const ms = `CAST(${c('total_ms')} AS DOUBLE)`;
    return [
      'count(*) AS requests',
      `coalesce(sum(${c('cost')}), 0.0) AS cost`,
      `coalesce(avg(${c('cost')}), 0.0) AS avg_cost`,
      `coalesce(sum(${c('total_units')}), 0) AS tokens`,
      `coalesce(avg(${c('total_units')}), 0.0) AS avg_tokens`,
      `coalesce(avg(${ms}), 0.0) AS avg_latency`,
      `coalesce(approx_percentile(${ms}, 0.5), 0.0) AS p50`,
      `coalesce(approx_percentile(${ms}, 0.9), 0.0) AS p90`,
      `coalesce(approx_percentile(${ms}, 0.95), 0.0) AS p95`,
      `coalesce(approx_percentile(${ms}, 0.99), 0.0) AS p99`,
      `sum(CASE WHEN NOT ${c('success')} THEN 1 ELSE 0 END) AS errors`,
      `count(DISTINCT ${c('end_user')}) AS users`,
      `sum(CASE WHEN ${hit} THEN 1 ELSE 0 END) AS cache_hits`,
      `sum(CASE WHEN ${c('cache_status')} = 'HIT' THEN 1 ELSE 0 END) AS simple_hits`,
      `sum(CASE WHEN ${c('cache_status')} IN ('SEMANTIC HIT', 'SEMANTIC_HIT') THEN 1 ELSE 0 END) AS semantic_hits`,
      `coalesce(avg(CASE WHEN ${hit} THEN ${ms} END), 0.0) AS cache_latency`,
      `coalesce(avg(CASE WHEN NOT (${hit}) THEN ${ms} END), 0.0) AS miss_latency`,
      `coalesce(sum(CASE WHEN ${hit} THEN ${c('cost')} END), 0.0) AS cache_savings`,
      `sum(CASE WHEN ${c('rescued_by')} = 'retry' THEN 1 ELSE 0 END) AS rescued_retry`,
      `sum(CASE WHEN ${c('rescued_by')} = 'fallback' THEN 1 ELSE 0 END) AS rescued_fallback`,
    ].join(',\n  ');
  }

  const toAggregates = (r: Row | undefined): Aggregates => {
    if (!r) return ZERO;
    const out = { ...ZERO };
    for (const k of Object.keys(ZERO) as (keyof Aggregates)[]) out[k] = Number(r[k] ?? 0);
    return out;
  };

  async function series(q: AnalyticsCriteria, requested: string | undefined): Promise<Series> {
    const cols = await knownColumns();
    const g = granularity(q, requested);
    const w = where(cols, q);
    const [byBucket, total] = await Promise.all([
      query(`SELECT to_milliseconds(${BUCKET[g]}) AS bucket, ${aggregates(cols)} FROM ${table} WHERE ${w} GROUP BY ${BUCKET[g]}`),
      query(`SELECT ${aggregates(cols)} FROM ${table} WHERE ${w}`),
    ]);
    const map = new Map(byBucket.map((r) => [Number(r.bucket), toAggregates(r)]));
    return {
      g,
      summary: toAggregates(total[0]),
      points: buckets(q, g).map((t) => ({ timestamp: new Date(t).toISOString(), a: map.get(t) ?? ZERO })),
    };
  }

  async function groups(q: AnalyticsCriteria, dimension: AnalyticsGroupDimension, feedback?: () => Promise<Map<string, number>>): Promise<GroupRow[]> {
    const cols = await knownColumns();
    const c = (name: string) => col(cols, name);
    const isStatus = !('metadataKey' in dimension) && dimension.column === 'status';
    const key = 'metadataKey' in dimension ? c(metadataDimension(dimension.metadataKey)) : isStatus ? `CAST(${c('status')} AS BIGINT)` : c(dimension.column);
    const hit = `${c('cache_status')} IN (${HIT_VALUES.map(literal).join(', ')})`;
    const ms = `CAST(${c('total_ms')} AS DOUBLE)`;
    const keyWhere = `${where(cols, q)}${'metadataKey' in dimension ? ` AND ${key} IS NOT NULL` : ''}`;
    const [rows, weights] = await Promise.all([query(
      `SELECT ${key} AS group_key,
  count(*) AS requests,
  coalesce(sum(${c('cost')}), 0.0) AS cost,
  coalesce(sum(${c('total_units')}), 0) AS total_tokens,
  coalesce(avg(${c('total_units')}), 0.0) AS avg_tokens,
  coalesce(avg(${c('req_units')}), 0.0) AS avg_input_tokens,
  coalesce(avg(${c('res_units')}), 0.0) AS avg_output_tokens,
  coalesce(avg(${ms}), 0.0) AS avg_latency,
  coalesce(approx_percentile(${ms}, 0.95), 0.0) AS p95_latency,
  coalesce(approx_percentile(${ms}, 0.99), 0.0) AS p99_latency,
  sum(CASE WHEN ${c('success')} THEN 1 ELSE 0 END) AS successes,
  sum(CASE WHEN NOT ${c('success')} THEN 1 ELSE 0 END) AS error_count,
  sum(CASE WHEN ${hit} THEN 1 ELSE 0 END) AS cache_hits,
  to_milliseconds(max("time")) AS last_seen,
  to_milliseconds(min("time")) AS first_seen
FROM ${table} WHERE ${keyWhere}
GROUP BY ${key} ORDER BY requests DESC, group_key ASC NULLS LAST`,
    ), feedback?.() ?? new Map<string, number>()]);
    const fb = await feedbackByGroup(cols, key, keyWhere, weights);
    return rows.map((r) => ({
      key: r.group_key === null ? null : isStatus ? Number(r.group_key) : r.group_key,
      requests: Number(r.requests), cost: Number(r.cost), total_tokens: Number(r.total_tokens), avg_tokens: Number(r.avg_tokens),
      avg_input_tokens: Number(r.avg_input_tokens), avg_output_tokens: Number(r.avg_output_tokens), avg_latency: Number(r.avg_latency),
      p95_latency: Number(r.p95_latency), p99_latency: Number(r.p99_latency), successes: Number(r.successes), error_count: Number(r.error_count),
      cache_hits: Number(r.cache_hits),
      last_seen: r.last_seen === null ? null : new Date(Number(r.last_seen)).toISOString(),
      first_seen: r.first_seen === null ? null : new Date(Number(r.first_seen)).toISOString(),
      avg_weighted_feedback: fb.get(r.group_key)?.avg ?? null, requests_with_feedback: fb.get(r.group_key)?.n ?? 0, total_groups: rows.length,
    }));
  }

  /**
   * Feedback per group, as Postgres joins it: every matching request whose trace has feedback
   * counts once with its trace's weighted value. The traces come from Postgres; they are asked
   * for in chunks so a statement stays far below Timestream's query-length limit.
   */
  async function feedbackByGroup(cols: Set<string>, key: string, keyWhere: string, weights: Map<string, number>) {
    const out = new Map<string | null, { avg: number; n: number }>();
    const traces = [...weights.keys()];
    const sums = new Map<string | null, { sum: number; n: number }>();
    for (let i = 0; i < traces.length; i += 500) {
      const chunk = traces.slice(i, i + 500);
      const trace = col(cols, 'trace_id');
      const rows = await query(
        `SELECT ${key} AS group_key, ${trace} AS trace, count(*) AS n FROM ${table} WHERE ${keyWhere} AND ${trace} IN (${chunk.map(literal).join(', ')}) GROUP BY ${key}, ${trace}`,
      );
      for (const r of rows) {
        const s = sums.get(r.group_key) ?? { sum: 0, n: 0 };
        s.sum += (weights.get(r.trace ?? '') ?? 0) * Number(r.n);
        s.n += Number(r.n);
        sums.set(r.group_key, s);
      }
    }
    for (const [k, s] of sums) out.set(k, { avg: s.sum / s.n, n: s.n });
    return out;
  }

  return {
    kind: 'timestream',
    query,
    async graph(name, filter, requested) {
      return simpleGraphs[name](await series(filter.criteria, requested));
    },
    async errorsByStatus({ criteria: q }) {
      const cols = await knownColumns();
      const rows = await query(
        `SELECT CAST(${col(cols, 'status')} AS BIGINT) AS status_code, count(*) AS n FROM ${table}
WHERE ${where(cols, q)} AND NOT ${col(cols, 'success')} GROUP BY ${col(cols, 'status')} ORDER BY n DESC, status_code`,
      );
      return errorsByStatusGraph(rows.map((r) => ({ status: Number(r.status_code), count: Number(r.n) })));
    },
    async errorsStack({ criteria: q }, requested) {
      const cols = await knownColumns();
      const g = granularity(q, requested);
      const rows = await query(
        `SELECT to_milliseconds(${BUCKET[g]}) AS bucket, CAST(${col(cols, 'status')} AS BIGINT) AS status_code, count(*) AS n FROM ${table}
WHERE ${where(cols, q)} AND NOT ${col(cols, 'success')} GROUP BY ${BUCKET[g]}, ${col(cols, 'status')} ORDER BY n DESC, status_code`,
      );
      return errorsStackGraph(buckets(q, g), rows.map((r) => ({ bucket: Number(r.bucket), status: Number(r.status_code), count: Number(r.n) })));
    },
    async rescued({ criteria: q }, requested) {
      const cols = await knownColumns();
      const g = granularity(q, requested);
      const by = col(cols, 'rescued_by');
      const retries = col(cols, 'retry_count');
      const rows = await query(
        `SELECT to_milliseconds(${BUCKET[g]}) AS bucket, ${by} AS rescued, ${retries} AS retries, count(*) AS n FROM ${table}
WHERE ${where(cols, q)} AND ${by} IS NOT NULL GROUP BY ${BUCKET[g]}, ${by}, ${retries} ORDER BY bucket, rescued, retries`,
      );
      return rescuedGraph(buckets(q, g), rows.map((r) => ({ bucket: Number(r.bucket), rescued_by: r.rescued ?? '', retry_count: Number(r.retries), count: Number(r.n) })));
    },
    async cacheSummary({ criteria: q }) {
      const cols = await knownColumns();
      const rows = await query(`SELECT ${aggregates(cols)} FROM ${table} WHERE ${where(cols, q)}`);
      return cacheSummaryOf(toAggregates(rows[0]));
    },
    async groupBy({ criteria: q }, dimension, page, feedback) {
      const all = await groups(q, dimension, feedback);
      return groupList(all.slice(page.size * page.current, page.size * (page.current + 1)), dimension);
    },
    async close() {
      clients.close();
    },
  };
}
