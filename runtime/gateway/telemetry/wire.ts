import type { MetricRecord } from '../../core/metrics.js';
import { METRIC_COLUMNS, METRICS_FORMAT_COLUMNS, type EncodedColumn, type MetricColumn } from '../../core/metrics-wire.js';

/**
 * Fields that differ on (nearly) every record: a dictionary would only cost a Map lookup each.
 * The rest repeat across a batch (tenant, key, route, client, metadata) and are dictionary-coded.
 */
const DISTINCT = new Set<MetricColumn>([
  'id', 'created_at', 'trace_id', 'span_id', 'parent_span_id', 'log_key', 'log_token',
  'req_units', 'res_units', 'total_units', 'cost', 'total_ms', 'upstream_ms', 'gateway_ms',
]);

/**
 * The batch as one array per field, in METRIC_COLUMNS order. Written out field by field on
 * purpose: `record[name]` with a varying name is a megamorphic keyed load (~50 ns), and 44 of them
 * per record were most of the encoding time; static reads from records of one shape are ~1 ns.
 * (The round-trip test catches a field put in the wrong column.)
 */
export function toColumns(rs: readonly MetricRecord[]): unknown[][] {
  const c = METRIC_COLUMNS.map(() => [] as unknown[]);
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i];
    c[0].push(r.id); c[1].push(r.created_at); c[2].push(r.organisation_id); c[3].push(r.workspace_id); c[4].push(r.api_key_id);
    c[5].push(r.virtual_key); c[6].push(r.config_id); c[7].push(r.config_version); c[8].push(r.prompt_id); c[9].push(r.prompt_version);
    c[10].push(r.provider); c[11].push(r.model); c[12].push(r.endpoint); c[13].push(r.method); c[14].push(r.stream);
    c[15].push(r.status); c[16].push(r.success); c[17].push(r.cache_status); c[18].push(r.retry_count); c[19].push(r.last_used_option_index);
    c[20].push(r.rescued_by); c[21].push(r.req_units); c[22].push(r.res_units); c[23].push(r.total_units); c[24].push(r.units_estimated);
    c[25].push(r.cost); c[26].push(r.currency); c[27].push(r.cost_unknown); c[28].push(r.total_ms); c[29].push(r.upstream_ms);
    c[30].push(r.gateway_ms); c[31].push(r.trace_id); c[32].push(r.span_id); c[33].push(r.parent_span_id); c[34].push(r.span_name);
    c[35].push(r.metadata); c[36].push(r.user); c[37].push(r.client_runtime); c[38].push(r.client_runtime_version); c[39].push(r.client_sdk);
    c[40].push(r.client_sdk_version); c[41].push(r.log_location); c[42].push(r.log_key); c[43].push(r.log_token);
  }
  return c;
}

function encodeColumn(values: unknown[], distinct: boolean): EncodedColumn {
  const n = values.length;
  const first = values[0];
  let i = 1;
  while (i < n && values[i] === first) i++;
  if (i === n) return { c: first };
  if (distinct) return values;
  // Metadata objects come from a cache keyed by header text, so equal metadata is usually the same object.
  const max = Math.max(8, n >> 1);
  const seen = new Map<unknown, number>([[first, 0]]);
  const d: unknown[] = [first];
  const idx = new Array<number>(n).fill(0, 0, i);
  for (; i < n; i++) {
    const v = values[i];
    let k = seen.get(v);
    if (k === undefined) {
      if (d.length >= max) return values;
      k = d.length;
      d.push(v);
      seen.set(v, k);
    }
    idx[i] = k;
  }
  return { d, i: idx };
}

/** A format 2 (columnar) `POST /v1/ingest/metrics` body; see runtime/core/metrics-wire.ts. */
export function encodeMetricsBatch(records: readonly MetricRecord[], head: { gateway_url?: string; gateway_version?: string }): string {
  const columns = {} as Record<MetricColumn, EncodedColumn>;
  if (records.length) {
    const raw = toColumns(records);
    METRIC_COLUMNS.forEach((name, k) => (columns[name] = encodeColumn(raw[k], DISTINCT.has(name))));
  }
  return JSON.stringify({ format: METRICS_FORMAT_COLUMNS, ...head, count: records.length, columns });
}
