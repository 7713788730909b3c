import {
  DescribeEndpointsCommand,
  TimestreamWriteClient,
  WriteRecordsCommand,
  type _Record,
  type TimestreamWriteClientConfig,
} from '@aws-sdk/client-timestream-write';
import { timestreamClientResolver } from './timestream-endpoint.js';
import type { MetricRecord, MetricsStore } from '../core/metrics.js';

/**
 * Opt-in metrics sink: Amazon Timestream for LiveAnalytics (closed to new AWS customers since
 * 2025-06-20, hence opt-in; Postgres stays the default). With it, the analytics graphs and groups
 * are read back from Timestream (timestream-analytics.ts); Postgres keeps the log index and feedback.
 *
 * One multi-measure record per request (measure name `request`), dimensions for every filterable
 * id, and the record id as a dimension: Timestream ignores a write whose dimensions, time and
 * measures equal an existing record's, so a retried batch never double-counts.
 *
 * Endpoint discovery: in AWS the SDK discovers the ingestion endpoint itself. With
 * `discoveryEndpoint` (tests, VPC endpoints), the adapter calls `DescribeEndpoints` there and
 * sends `WriteRecords` to the address it returns, refreshed after `CachePeriodInMinutes`.
 */
export interface TimestreamMetricsOptions {
  database: string;
  table: string;
  client?: TimestreamWriteClientConfig;
  /** e.g. `http://127.0.0.1:9999`: where DescribeEndpoints is asked; its scheme is used for the discovered address. */
  discoveryEndpoint?: string;
}

const MAX_RECORDS_PER_WRITE = 100;

function dims(r: MetricRecord): { Name: string; Value: string }[] {
  const out: { Name: string; Value: string }[] = [];
  const add = (name: string, value: string | number | null | undefined) => {
    if (value !== null && value !== undefined && value !== '') out.push({ Name: name, Value: String(value).slice(0, 2048) });
  };
  add('request_id', r.id);
  add('organisation_id', r.organisation_id);
  add('workspace_id', r.workspace_id);
  add('api_key_id', r.api_key_id);
  add('virtual_key', r.virtual_key);
  add('config_id', r.config_id);
  add('prompt_id', r.prompt_id);
  add('provider', r.provider);
  add('model', r.model);
  add('endpoint', r.endpoint);
  add('status', r.status);
  add('cache_status', r.cache_status);
  add('trace_id', r.trace_id);
  // For the analytics read side (timestream-analytics.ts): the users graph, rescued requests and the
  // span filter. Records written before these existed simply lack them (NULL when queried).
  add('span_id', r.span_id);
  add('end_user', r.user);
  add('rescued_by', r.rescued_by);
  for (const [k, v] of Object.entries(r.metadata ?? {}).slice(0, 16)) add(metadataDimension(k), v);
  return out;
}

/** The dimension a metadata key is stored under (`md_` + the key with other characters than [A-Za-z0-9_] as `_`). */
export function metadataDimension(key: string): string {
  return `md_${key.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 60);
}

export function toTimestreamRecord(r: MetricRecord): _Record {
  const num = (name: string, value: number) => ({ Name: name, Value: String(value), Type: 'DOUBLE' as const });
  const big = (name: string, value: number) => ({ Name: name, Value: String(Math.round(value)), Type: 'BIGINT' as const });
  return {
    Dimensions: dims(r),
    MeasureName: 'request',
    MeasureValueType: 'MULTI',
    MeasureValues: [
      big('total_ms', r.total_ms),
      big('upstream_ms', r.upstream_ms),
      big('gateway_ms', r.gateway_ms),
      big('req_units', r.req_units),
      big('res_units', r.res_units),
      big('total_units', r.total_units),
      big('retry_count', r.retry_count),
      num('cost', r.cost),
      { Name: 'success', Value: String(r.success), Type: 'BOOLEAN' },
      { Name: 'stream', Value: String(r.stream), Type: 'BOOLEAN' },
    ],
    Time: String(Date.parse(r.created_at)),
    TimeUnit: 'MILLISECONDS',
  };
}

export function timestreamMetricsStore(opts: TimestreamMetricsOptions): MetricsStore {
  const clients = timestreamClientResolver({
    discoveryEndpoint: opts.discoveryEndpoint,
    create: (endpoint) => new TimestreamWriteClient({ ...opts.client, ...(endpoint ? { endpoint } : {}) }),
    describe: (client) => client.send(new DescribeEndpointsCommand({})),
  });

  return {
    async write(records) {
      const c = await clients.get();
      for (let i = 0; i < records.length; i += MAX_RECORDS_PER_WRITE) {
        const chunk = records.slice(i, i + MAX_RECORDS_PER_WRITE);
        await c.send(new WriteRecordsCommand({ DatabaseName: opts.database, TableName: opts.table, Records: chunk.map(toTimestreamRecord) }));
      }
      // Timestream does not say which records were duplicates: report what was accepted.
      return { inserted: records.length };
    },
    async close() {
      clients.close();
    },
  };
}
