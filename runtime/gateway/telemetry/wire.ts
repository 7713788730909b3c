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

function column(records: readonly MetricRecord[], name: MetricColumn): EncodedColumn {
  const n = records.length;
  const first = records[0][name];
  let i = 1;
  while (i < n && records[i][name] === first) i++;
  if (i === n) return { c: first };
  if (DISTINCT.has(name)) return records.map((r) => r[name]);
  // Metadata objects come from a cache keyed by header text, so equal metadata is usually the same object.
  const max = Math.max(8, n >> 1);
  const seen = new Map<unknown, number>([[first, 0]]);
  const d: unknown[] = [first];
  const idx = new Array<number>(n).fill(0, 0, i);
  for (; i < n; i++) {
    const v = records[i][name];
    let k = seen.get(v);
    if (k === undefined) {
      if (d.length >= max) return records.map((r) => r[name]);
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
  if (records.length) for (const name of METRIC_COLUMNS) columns[name] = column(records, name);
  return JSON.stringify({ format: METRICS_FORMAT_COLUMNS, ...head, count: records.length, columns });
}
