import type { MetricRecord } from '../../core/metrics.js';
import { METRIC_COLUMNS, METRICS_FORMAT_COLUMNS, type EncodedColumn, type MetricColumn } from '../../core/metrics-wire.js';

/**
 * The open batch of metric records, kept as columns from the moment a record is added: numbers in
 * typed arrays, repeating values as indexes into a per-batch dictionary, and only the values that
 * differ per record (ids, trace/span ids, log keys) as strings. A record object dies young instead
 * of waiting out the flush interval in the heap: queued records were most of what the garbage
 * collector promoted and marked with telemetry on.
 */
// Column order inside each group; `add` below writes them in exactly this order.
const NUMBER_COLUMNS = ['created_at', 'req_units', 'res_units', 'total_units', 'cost', 'total_ms', 'upstream_ms', 'gateway_ms'] as const;
const DISTINCT_COLUMNS = ['id', 'trace_id', 'span_id', 'parent_span_id', 'log_key', 'log_token'] as const;
const DICT_COLUMNS = METRIC_COLUMNS.filter(
  (c) => !(NUMBER_COLUMNS as readonly string[]).includes(c) && !(DISTINCT_COLUMNS as readonly string[]).includes(c),
);
if (DICT_COLUMNS.length !== 30) throw new Error('metrics wire: MetricColumnsBatch.add does not write every column');

/** A sealed batch: the format 2 body, and how many records it holds (for the counters). */
export interface PackedBatch {
  body: string;
  count: number;
}

class Dict {
  readonly values: unknown[] = [];
  private readonly index = new Map<unknown, number>();
  private last: unknown = undefined;
  private lastIndex = -1;

  of(v: unknown): number {
    // Runs of one value (same tenant, model, client...) skip the Map.
    if (this.lastIndex >= 0 && v === this.last) return this.lastIndex;
    let k = this.index.get(v);
    if (k === undefined) {
      k = this.values.length;
      this.values.push(v);
      this.index.set(v, k);
    }
    this.last = v;
    this.lastIndex = k;
    return k;
  }
}

export class MetricColumnsBatch {
  count = 0;
  private capacity: number;
  private numbers: Float64Array[];
  private indexes: Int32Array[];
  private readonly dicts = DICT_COLUMNS.map(() => new Dict());
  private readonly strings: unknown[][] = DISTINCT_COLUMNS.map(() => []);

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
    this.numbers = NUMBER_COLUMNS.map(() => new Float64Array(this.capacity));
    this.indexes = DICT_COLUMNS.map(() => new Int32Array(this.capacity));
  }

  private grow(): void {
    this.capacity *= 2;
    this.numbers = this.numbers.map((a) => {
      const b = new Float64Array(this.capacity);
      b.set(a);
      return b;
    });
    this.indexes = this.indexes.map((a) => {
      const b = new Int32Array(this.capacity);
      b.set(a);
      return b;
    });
  }

  /** `createdAtMs` is the record's `created_at` as an epoch: format 2 sends it as a number. */
  add(r: MetricRecord, createdAtMs: number): void {
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    const n = this.numbers;
    n[0][i] = createdAtMs; n[1][i] = r.req_units; n[2][i] = r.res_units; n[3][i] = r.total_units;
    n[4][i] = r.cost; n[5][i] = r.total_ms; n[6][i] = r.upstream_ms; n[7][i] = r.gateway_ms;
    const s = this.strings;
    s[0].push(r.id); s[1].push(r.trace_id); s[2].push(r.span_id); s[3].push(r.parent_span_id); s[4].push(r.log_key); s[5].push(r.log_token);
    // DICT_COLUMNS is METRIC_COLUMNS without the two groups above, in METRIC_COLUMNS order.
    const x = this.indexes;
    const d = this.dicts;
    x[0][i] = d[0].of(r.organisation_id); x[1][i] = d[1].of(r.workspace_id); x[2][i] = d[2].of(r.api_key_id);
    x[3][i] = d[3].of(r.virtual_key); x[4][i] = d[4].of(r.config_id); x[5][i] = d[5].of(r.config_version);
    x[6][i] = d[6].of(r.prompt_id); x[7][i] = d[7].of(r.prompt_version); x[8][i] = d[8].of(r.provider);
    x[9][i] = d[9].of(r.model); x[10][i] = d[10].of(r.endpoint); x[11][i] = d[11].of(r.method);
    x[12][i] = d[12].of(r.stream); x[13][i] = d[13].of(r.status); x[14][i] = d[14].of(r.success);
    x[15][i] = d[15].of(r.cache_status); x[16][i] = d[16].of(r.retry_count); x[17][i] = d[17].of(r.last_used_option_index);
    x[18][i] = d[18].of(r.rescued_by); x[19][i] = d[19].of(r.units_estimated); x[20][i] = d[20].of(r.currency);
    x[21][i] = d[21].of(r.cost_unknown); x[22][i] = d[22].of(r.span_name);
    // Metadata objects come from a cache keyed by header text: equal metadata is usually one object.
    x[23][i] = d[23].of(r.metadata); x[24][i] = d[24].of(r.user); x[25][i] = d[25].of(r.client_runtime);
    x[26][i] = d[26].of(r.client_runtime_version); x[27][i] = d[27].of(r.client_sdk); x[28][i] = d[28].of(r.client_sdk_version);
    x[29][i] = d[29].of(r.log_location);
  }

  /** The format 2 body (runtime/core/metrics-wire.ts). */
  encode(head: { gateway_url?: string; gateway_version?: string }): string {
    const n = this.count;
    const columns = {} as Record<MetricColumn, EncodedColumn>;
    if (n) {
      NUMBER_COLUMNS.forEach((name, k) => (columns[name] = plain(toArray(this.numbers[k], n))));
      DISTINCT_COLUMNS.forEach((name, k) => (columns[name] = plain(this.strings[k])));
      DICT_COLUMNS.forEach((name, k) => {
        const d = this.dicts[k].values;
        columns[name] = d.length === 1 ? { c: d[0] } : { d, i: toArray(this.indexes[k], n) };
      });
    }
    return JSON.stringify({ format: METRICS_FORMAT_COLUMNS, ...head, count: n, columns });
  }
}

/** The first `n` values as a plain array (for JSON.stringify); `Array.from` goes through the iterator protocol, several times slower. */
function toArray(values: Float64Array | Int32Array, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = values[i];
  return out;
}

function plain(values: unknown[]): EncodedColumn {
  const first = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return values;
  return { c: first };
}

/** A format 2 body for records at hand (tests, tools): the same encoding the gateway's batches use. */
export function encodeMetricsBatch(records: readonly MetricRecord[], head: { gateway_url?: string; gateway_version?: string }): string {
  const batch = new MetricColumnsBatch(records.length);
  for (const r of records) batch.add(r, Date.parse(r.created_at));
  return batch.encode(head);
}
