import type { MetricRecord } from './metrics.js';

/**
 * The body of `POST /v1/ingest/metrics`, by format version.
 *
 * - **1 (rows)**: `{ gateway_url?, gateway_version?, records: MetricRecord[] }`. A body without a
 *   `format` field is format 1: gateways before format 2 send it, and the control plane keeps
 *   reading it (and spool files written by them are replayed as such after an upgrade).
 * - **2 (columns)**: `{ format: 2, gateway_url?, gateway_version?, count, columns }`. `columns`
 *   holds every field of `MetricRecord` by name, each encoded as one of:
 *     - an array of `count` values (record i's value at index i);
 *     - `{ "c": value }`: every record has this value;
 *     - `{ "d": [values], "i": [indexes] }`: a dictionary, record i's value is `d[i[i]]`.
 *   `created_at` is sent as epoch milliseconds (a number), every other field as in format 1.
 *   Field names are written once per batch instead of once per record, and the fields that repeat
 *   (organisation, key, provider, model, metadata, client, ...) once per distinct value: a record
 *   costs ~150 bytes on the wire instead of ~950. Records decode to exactly the format 1 rows and
 *   are checked by the same rules.
 *
 * Any other `format` is refused with a 400 naming the versions this control plane reads, so a
 * newer gateway talking to an older control plane fails loudly (and spools) instead of losing data.
 */
export const METRICS_FORMAT_ROWS = 1;
export const METRICS_FORMAT_COLUMNS = 2;
export const METRICS_FORMATS = [METRICS_FORMAT_ROWS, METRICS_FORMAT_COLUMNS] as const;

/** Every field of a format 2 batch; a batch missing one is refused. */
export const METRIC_COLUMNS = [
  'id', 'created_at', 'organisation_id', 'workspace_id', 'api_key_id', 'virtual_key', 'config_id', 'config_version',
  'prompt_id', 'prompt_version', 'provider', 'model', 'endpoint', 'method', 'stream', 'status', 'success', 'cache_status',
  'retry_count', 'last_used_option_index', 'rescued_by', 'req_units', 'res_units', 'total_units', 'units_estimated',
  'cost', 'currency', 'cost_unknown', 'total_ms', 'upstream_ms', 'gateway_ms', 'trace_id', 'span_id', 'parent_span_id',
  'span_name', 'metadata', 'user', 'client_runtime', 'client_runtime_version', 'client_sdk', 'client_sdk_version',
  'log_location', 'log_key', 'log_token',
] as const satisfies readonly (keyof MetricRecord)[];

export type MetricColumn = (typeof METRIC_COLUMNS)[number];
export type EncodedColumn = unknown[] | { c: unknown } | { d: unknown[]; i: number[] };

export interface ColumnarMetricsBody {
  format: typeof METRICS_FORMAT_COLUMNS;
  gateway_url?: string;
  gateway_version?: string;
  count: number;
  columns: Record<MetricColumn, EncodedColumn>;
}

// A field added to MetricRecord must be added to METRIC_COLUMNS too (this line stops compiling otherwise).
const everyFieldIsAColumn: [Exclude<keyof MetricRecord, MetricColumn>] extends [never] ? true : never = true;
void everyFieldIsAColumn;
