import type { MetricRecord } from '../../core/metrics.js';
import { METRIC_COLUMNS, METRICS_FORMAT_COLUMNS, type EncodedColumn, type MetricColumn } from '../../core/metrics-wire.js';
import type { ClientInfo } from './client-info.js';
import { CLIENT_COLUMNS, FACT_COLUMNS, idOf, MetricRow, recordToRow, type RouteFacts } from './metric-row.js';

/**
 * The open batch of metric records, kept compact from the moment a row is added: numbers and
 * dictionary indexes in one typed array (row by row), the values that differ per record (ids,
 * trace/span ids, log keys) as strings, and everything else as indexes into per-batch
 * dictionaries. The 16 route fields share one index (the route's RouteFacts object) and the 4
 * client fields another (the ClientInfo object). Sealing transposes rows into the format 2 columns.
 */
// Column order inside each group; `add` below writes them in exactly this order.
const NUMBER_COLUMNS = ['created_at', 'req_units', 'res_units', 'total_units', 'cost', 'total_ms', 'upstream_ms', 'gateway_ms'] as const;
const DISTINCT_COLUMNS = ['id', 'trace_id', 'span_id', 'parent_span_id', 'log_key', 'log_token'] as const;
const SMALL_COLUMNS = ['stream', 'status', 'success', 'cache_status', 'retry_count', 'rescued_by', 'units_estimated', 'span_name', 'user'] as const;
{
  const covered = new Set<string>([...NUMBER_COLUMNS, ...DISTINCT_COLUMNS, ...SMALL_COLUMNS, ...FACT_COLUMNS, ...CLIENT_COLUMNS.map(([c]) => c), 'metadata']);
  if (covered.size !== METRIC_COLUMNS.length || METRIC_COLUMNS.some((c) => !covered.has(c))) {
    throw new Error('metrics wire: MetricColumnsBatch does not write every column exactly once');
  }
}

/** A sealed batch: the format 2 body, and how many records it holds (for the counters). */
export interface PackedBatch {
  body: string;
  count: number;
}

class Dict {
  readonly values: unknown[] = [];
  private readonly index = new Map<unknown, number>();

  of(v: unknown): number {
    let k = this.index.get(v);
    if (k === undefined) {
      k = this.values.length;
      this.values.push(v);
      this.index.set(v, k);
    }
    return k;
  }
}

const NUMBERS = NUMBER_COLUMNS.length;
/** Dictionaries: SMALL_COLUMNS, then routes, clients and metadata (the last three by identity). */
const DICTS = SMALL_COLUMNS.length + 3;
/** The id's counter (MetricRow.idSeq), after the dictionary indexes: ids are joined only when sealed. */
const ID_SEQ = NUMBERS + DICTS;
/** One record's cells: its numbers, its dictionary indexes, its id counter. */
const WIDTH = ID_SEQ + 1;
const STRINGS = DISTINCT_COLUMNS.length;
const NOTHING = Symbol('nothing');

export class MetricColumnsBatch {
  count = 0;
  private capacity: number;
  /**
   * Cells row by row (record i at i * WIDTH), transposed into columns only when sealed: records
   * arrive one at a time between other requests' work, and one row is 3 cache lines where 20
   * typed-array columns were 20 (each cold by the next request).
   */
  private cells: Float64Array;
  private strings: (string | null)[];
  private readonly dicts = Array.from({ length: DICTS }, () => new Dict());
  // The previous value and index of each dictionary, side by side: runs of one value (same route,
  // client, status...) touch only these two small arrays.
  private readonly lastValues: unknown[] = new Array<unknown>(DICTS).fill(NOTHING);
  private readonly lastIndexes = new Int32Array(DICTS);
  /** One record's dictionary-column values, in DICTS order (reused by every add). */
  private readonly values: unknown[] = new Array<unknown>(DICTS).fill(null);

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
    this.cells = new Float64Array(this.capacity * WIDTH);
    this.strings = new Array<string | null>(this.capacity * STRINGS).fill(null);
  }

  private grow(): void {
    this.capacity *= 2;
    const cells = new Float64Array(this.capacity * WIDTH);
    cells.set(this.cells);
    this.cells = cells;
    const strings = new Array<string | null>(this.capacity * STRINGS).fill(null);
    for (let i = 0; i < this.strings.length; i++) strings[i] = this.strings[i];
    this.strings = strings;
  }

  /** A value not equal to its column's previous one: its dictionary index (added when new). */
  private miss(k: number, v: unknown): number {
    const index = this.dicts[k].of(v);
    this.lastValues[k] = v;
    this.lastIndexes[k] = index;
    return index;
  }

  /**
   * Copies a row's values in; the row object is reused by the caller. The dictionary columns go
   * through one loop rather than one inlined lookup each: this runs on every request, between the
   * pipeline's own code, and twelve inlined lookups made it 10.8 KB of machine code (4.0 KB now)
   * for the CPU to fetch on every request.
   */
  add(r: MetricRow): void {
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    const c = this.cells;
    const o = i * WIDTH;
    c[o] = r.createdAtMs; c[o + 1] = r.req_units; c[o + 2] = r.res_units; c[o + 3] = r.total_units;
    c[o + 4] = r.cost; c[o + 5] = r.total_ms; c[o + 6] = r.upstream_ms; c[o + 7] = r.gateway_ms;
    const v = this.values;
    v[0] = r.stream; v[1] = r.status; v[2] = r.success; v[3] = r.cache_status; v[4] = r.retry_count; v[5] = r.rescued_by;
    v[6] = r.units_estimated; v[7] = r.span_name; v[8] = r.user; v[9] = r.facts; v[10] = r.client; v[11] = r.metadata;
    const last = this.lastValues;
    const indexes = this.lastIndexes;
    for (let k = 0; k < DICTS; k++) {
      const x = v[k];
      c[o + NUMBERS + k] = last[k] === x ? indexes[k] : this.miss(k, x);
    }
    const s = this.strings;
    const so = i * STRINGS;
    c[o + ID_SEQ] = r.idSeq;
    s[so] = r.idBase; s[so + 1] = r.trace_id; s[so + 2] = r.span_id; s[so + 3] = r.parent_span_id; s[so + 4] = r.log_key; s[so + 5] = r.log_token;
  }

  /** Cell `k` of every record, as a plain array (for JSON.stringify). */
  private cellColumn(k: number): number[] {
    const n = this.count;
    const c = this.cells;
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = c[i * WIDTH + k];
    return out;
  }

  private stringColumn(k: number): (string | null)[] {
    const n = this.count;
    const s = this.strings;
    const out = new Array<string | null>(n);
    for (let i = 0; i < n; i++) out[i] = s[i * STRINGS + k];
    return out;
  }

  /** Record ids, joined from the base and counter of each (assignRecordId). */
  private idColumn(): string[] {
    const n = this.count;
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = idOf(this.strings[i * STRINGS] as string, this.cells[i * WIDTH + ID_SEQ]);
    return out;
  }

  /** The format 2 body (runtime/core/metrics-wire.ts). */
  encode(head: { gateway_url?: string; gateway_version?: string }): string {
    const n = this.count;
    const columns = {} as Record<MetricColumn, EncodedColumn>;
    if (n) {
      NUMBER_COLUMNS.forEach((name, k) => (columns[name] = plain(this.cellColumn(k))));
      // Slot 0 of a record's strings is its id's base (DISTINCT_COLUMNS[0] is 'id').
      DISTINCT_COLUMNS.forEach((name, k) => (columns[name] = k === 0 ? this.idColumn() : plain(this.stringColumn(k))));
      const dictColumn = (k: number): EncodedColumn => {
        const values = this.dicts[k].values;
        return values.length === 1 ? { c: values[0] } : { d: values, i: this.cellColumn(NUMBERS + k) };
      };
      SMALL_COLUMNS.forEach((name, k) => (columns[name] = dictColumn(k)));
      const routes = SMALL_COLUMNS.length;
      const facts = this.dicts[routes].values as RouteFacts[];
      const factIndexes = facts.length > 1 ? this.cellColumn(NUMBERS + routes) : undefined;
      for (const name of FACT_COLUMNS) columns[name] = derivedColumn(facts, (f) => f[name], factIndexes);
      const clients = this.dicts[routes + 1].values as ClientInfo[];
      const clientIndexes = clients.length > 1 ? this.cellColumn(NUMBERS + routes + 1) : undefined;
      for (const [name, field] of CLIENT_COLUMNS) columns[name] = derivedColumn(clients, (c) => c[field], clientIndexes);
      columns.metadata = dictColumn(routes + 2);
    }
    return JSON.stringify({ format: METRICS_FORMAT_COLUMNS, ...head, count: n, columns });
  }
}

/** A column whose value is a field of the row's shared object: that object's dictionary, re-keyed by the field's distinct values. */
function derivedColumn<T>(owners: T[], field: (owner: T) => unknown, indexes: number[] | undefined): EncodedColumn {
  const first = field(owners[0]);
  let same = true;
  for (let k = 1; same && k < owners.length; k++) same = field(owners[k]) === first;
  if (same || !indexes) return { c: first };
  const values: unknown[] = [];
  const seen = new Map<unknown, number>();
  const remap = owners.map((o) => {
    const v = field(o);
    let k = seen.get(v);
    if (k === undefined) {
      k = values.length;
      values.push(v);
      seen.set(v, k);
    }
    return k;
  });
  return values.length === 1 ? { c: values[0] } : { d: values, i: indexes.map((k) => remap[k]) };
}

function plain(values: unknown[]): EncodedColumn {
  const first = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return values;
  return { c: first };
}

/** A format 2 body for records at hand (tests, tools): the same encoding the gateway's batches use. */
export function encodeMetricsBatch(records: readonly MetricRecord[], head: { gateway_url?: string; gateway_version?: string }): string {
  const batch = new MetricColumnsBatch(records.length);
  for (const r of records) batch.add(recordToRow(r));
  return batch.encode(head);
}
