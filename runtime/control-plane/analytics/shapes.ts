import type { GroupDimension, GroupRow } from './rollup-groups.js';

/**
 * Portkey's response shapes for the analytics routes, from rows any metrics store returns (Postgres
 * raw rows or rollups, Timestream), so that every store answers in the same shape.
 */
export const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;
export const pct = (part: number, whole: number) => (whole ? round((part / whole) * 100, 2) : 0);
export const graph = (summary: object, data_points: object[]) => ({ object: 'analytics-graph', summary, data_points });

export function errorsByStatusGraph(rows: readonly { status: number; count: number }[]) {
  return graph(
    { total_errors: rows.reduce((n, r) => n + r.count, 0), unique_error_codes: rows.length },
    rows.map((r) => ({ status_code: r.status, count: r.count })),
  );
}

/** `bucketStarts`: every bucket of the range (ms), so the graph has no holes. */
export function errorsStackGraph(bucketStarts: readonly number[], rows: readonly { bucket: number; status: number; count: number }[]) {
  const byBucket = new Map<number, { response_status_code: number; count: number }[]>();
  for (const r of rows) {
    const list = byBucket.get(Number(r.bucket)) ?? [];
    list.push({ response_status_code: r.status, count: r.count });
    byBucket.set(Number(r.bucket), list);
  }
  return graph(
    { total: rows.reduce((n, r) => n + r.count, 0) },
    bucketStarts.map((t) => ({ timestamp: new Date(t).toISOString(), stats: byBucket.get(t) ?? [] })),
  );
}

export function rescuedGraph(bucketStarts: readonly number[], rows: readonly { bucket: number; rescued_by: string; retry_count: number; count: number }[]) {
  const retry = new Map<number, { retry_success_count: number; count: number }[]>();
  const fallback = new Map<number, number>();
  let retryTotal = 0;
  let fallbackTotal = 0;
  for (const r of rows) {
    const t = Number(r.bucket);
    if (r.rescued_by === 'retry') {
      retry.set(t, [...(retry.get(t) ?? []), { retry_success_count: r.retry_count, count: r.count }]);
      retryTotal += r.count;
    } else {
      fallback.set(t, (fallback.get(t) ?? 0) + r.count);
      fallbackTotal += r.count;
    }
  }
  return graph(
    { retry: retryTotal, fallback: fallbackTotal },
    bucketStarts.map((t) => ({ timestamp: new Date(t).toISOString(), retry: retry.get(t) ?? [], fallback: fallback.get(t) ?? 0 })),
  );
}

export function cacheSummaryOf(a: { cache_hits: number; cache_latency: number; requests: number; miss_latency: number }) {
  return {
    object: 'analytics-summary',
    summary: {
      hits: a.cache_hits,
      avg_latency: round(a.cache_latency, 2),
      total_requests: a.requests,
      cache_speedup: a.cache_hits && a.miss_latency ? round(((a.miss_latency - a.cache_latency) / a.miss_latency) * 100, 2) : 0,
    },
  };
}

export function groupList(rows: readonly GroupRow[], dimension: GroupDimension) {
  const name = 'metadataKey' in dimension ? 'metadata_value' : dimension.name;
  const data = rows.map((r) => {
    const requests = Number(r.requests);
    return {
      object: 'analytics-group',
      [name]: r.key,
      requests,
      cost: round(Number(r.cost), 8),
      total_tokens: Number(r.total_tokens),
      avg_tokens: round(Number(r.avg_tokens), 2),
      avg_input_tokens: round(Number(r.avg_input_tokens), 2),
      avg_output_tokens: round(Number(r.avg_output_tokens), 2),
      avg_latency: round(Number(r.avg_latency), 2),
      p95_latency: round(Number(r.p95_latency), 2),
      p99_latency: round(Number(r.p99_latency), 2),
      success_rate: pct(Number(r.successes), requests),
      error_count: Number(r.error_count),
      cache_hit_rate: pct(Number(r.cache_hits), requests),
      avg_weighted_feedback: r.avg_weighted_feedback === null ? null : round(Number(r.avg_weighted_feedback), 3),
      requests_with_feedback: Number(r.requests_with_feedback),
      last_seen: r.last_seen ? new Date(r.last_seen as string).toISOString() : null,
      first_seen: r.first_seen ? new Date(r.first_seen as string).toISOString() : null,
    };
  });
  return { object: 'list', total: Number(rows[0]?.total_groups ?? 0), data };
}
