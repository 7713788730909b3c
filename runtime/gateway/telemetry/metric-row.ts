import { randomUUID } from 'node:crypto';
import type { MetricRecord } from '../../core/metrics.js';
import type { ClientInfo } from './client-info.js';
import type { ModelPrice } from './pricing.js';

/**
 * What a route (state, key, config, leaf, provider, model, endpoint, prompt) contributes to a
 * record. One shared, never mutated object per distinct route: the batch stores one index per
 * record for all of these fields and expands them into columns only when it is sealed.
 */
export interface RouteFacts {
  readonly organisation_id: string;
  readonly workspace_id: string | null;
  readonly api_key_id: string | null;
  readonly virtual_key: string | null;
  readonly config_id: string | null;
  readonly config_version: number | null;
  readonly prompt_id: string | null;
  readonly prompt_version: number | null;
  readonly provider: string | null;
  readonly model: string | null;
  readonly endpoint: string;
  readonly method: string;
  readonly last_used_option_index: string | null;
  readonly currency: string;
  readonly cost_unknown: boolean;
  readonly log_location: MetricRecord['log_location'];
  /** Not record fields: what the per-request part needs from the route. */
  readonly fellBack: boolean;
  readonly price: ModelPrice | undefined;
  readonly metadataDefaults: Record<string, string> | undefined;
}

/** The record columns a RouteFacts carries, in METRIC_COLUMNS order. */
export const FACT_COLUMNS = [
  'organisation_id', 'workspace_id', 'api_key_id', 'virtual_key', 'config_id', 'config_version', 'prompt_id',
  'prompt_version', 'provider', 'model', 'endpoint', 'method', 'last_used_option_index', 'currency', 'cost_unknown',
  'log_location',
] as const satisfies readonly (keyof RouteFacts & keyof MetricRecord)[];

/** The client columns, from the shared ClientInfo object of a combination of SDK headers. */
export const CLIENT_COLUMNS = [
  ['client_runtime', 'runtime'],
  ['client_runtime_version', 'runtimeVersion'],
  ['client_sdk', 'sdk'],
  ['client_sdk_version', 'sdkVersion'],
] as const satisfies readonly (readonly [keyof MetricRecord, keyof ClientInfo])[];

/**
 * The per-request part of a record. The telemetry instance fills one row object over and over
 * (fixed fields, one shape): a request adds no record object to the heap unless its full log is
 * kept, which needs the whole record (`rowToRecord`).
 */
export class MetricRow {
  facts: RouteFacts = undefined as unknown as RouteFacts;
  client: ClientInfo = undefined as unknown as ClientInfo;
  metadata: Record<string, string> = {};
  /** The record id is `idBase` + the 3 hex digits of `idSeq`, or `idBase` alone when `idSeq` < 0 (see rowId). */
  idBase = '';
  idSeq = -1;
  createdAtMs = 0;
  stream = false;
  status = 0;
  success = false;
  cache_status: string | null = null;
  retry_count = 0;
  rescued_by: MetricRecord['rescued_by'] = null;
  req_units = 0;
  res_units = 0;
  total_units = 0;
  units_estimated = false;
  cost = 0;
  total_ms = 0;
  upstream_ms = 0;
  gateway_ms = 0;
  trace_id: string | null = null;
  span_id: string | null = null;
  parent_span_id: string | null = null;
  span_name: string | null = null;
  user: string | null = null;
  log_key: string | null = null;
  log_token: string | null = null;
}

const HEX3 = Array.from({ length: 4096 }, (_, n) => n.toString(16).padStart(3, '0'));
let idPrefix = '';
let idNext = 4096;

/**
 * Gives the row a fresh record id: a random UUID's first 33 characters, renewed every 4,096
 * records, then a 3-hex-digit counter. Still UUID-shaped and unique (110 random bits per base).
 * The string is only joined when read (rowId): the batch keeps base and counter, and joins a
 * whole column when it is sealed.
 */
export function assignRecordId(row: MetricRow): void {
  if (idNext === 4096) {
    idPrefix = randomUUID().slice(0, 33);
    idNext = 0;
  }
  row.idBase = idPrefix;
  row.idSeq = idNext++;
}

/** A record id from its base and counter (assignRecordId), or a whole id kept as the base. */
export const idOf = (base: string, seq: number): string => (seq < 0 ? base : base + HEX3[seq]);

export const rowId = (row: MetricRow): string => idOf(row.idBase, row.idSeq);

let isoSecond = -1;
let isoPrefix = '';
/** `toISOString()` of an ms epoch, formatting the date part once per second (records come in bursts). */
export function isoOf(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const frac = ms - second * 1000;
  return `${isoPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

/** The whole record of a row (full logs, format 1, tests). */
export function rowToRecord(row: MetricRow): MetricRecord {
  const f = row.facts;
  const c = row.client;
  return {
    id: rowId(row),
    created_at: isoOf(row.createdAtMs),
    organisation_id: f.organisation_id,
    workspace_id: f.workspace_id,
    api_key_id: f.api_key_id,
    virtual_key: f.virtual_key,
    config_id: f.config_id,
    config_version: f.config_version,
    prompt_id: f.prompt_id,
    prompt_version: f.prompt_version,
    provider: f.provider,
    model: f.model,
    endpoint: f.endpoint,
    method: f.method,
    stream: row.stream,
    status: row.status,
    success: row.success,
    cache_status: row.cache_status,
    retry_count: row.retry_count,
    last_used_option_index: f.last_used_option_index,
    rescued_by: row.rescued_by,
    req_units: row.req_units,
    res_units: row.res_units,
    total_units: row.total_units,
    units_estimated: row.units_estimated,
    cost: row.cost,
    currency: f.currency,
    cost_unknown: f.cost_unknown,
    total_ms: row.total_ms,
    upstream_ms: row.upstream_ms,
    gateway_ms: row.gateway_ms,
    trace_id: row.trace_id,
    span_id: row.span_id,
    parent_span_id: row.parent_span_id,
    span_name: row.span_name,
    metadata: row.metadata,
    user: row.user,
    client_runtime: c.runtime,
    client_runtime_version: c.runtimeVersion,
    client_sdk: c.sdk,
    client_sdk_version: c.sdkVersion,
    log_location: f.log_location,
    log_key: row.log_key,
    log_token: row.log_token,
  };
}

/** A row standing for a record at hand (tests, tools, spooled format 1 rows): one facts object per record. */
export function recordToRow(r: MetricRecord, row = new MetricRow()): MetricRow {
  row.facts = {
    organisation_id: r.organisation_id, workspace_id: r.workspace_id, api_key_id: r.api_key_id, virtual_key: r.virtual_key,
    config_id: r.config_id, config_version: r.config_version, prompt_id: r.prompt_id, prompt_version: r.prompt_version,
    provider: r.provider, model: r.model, endpoint: r.endpoint, method: r.method, last_used_option_index: r.last_used_option_index,
    currency: r.currency, cost_unknown: r.cost_unknown, log_location: r.log_location,
    fellBack: r.rescued_by === 'fallback', price: undefined, metadataDefaults: undefined,
  };
  row.client = { runtime: r.client_runtime, runtimeVersion: r.client_runtime_version, sdk: r.client_sdk, sdkVersion: r.client_sdk_version };
  row.metadata = r.metadata;
  row.idBase = r.id;
  row.idSeq = -1;
  row.createdAtMs = Date.parse(r.created_at);
  row.stream = r.stream;
  row.status = r.status;
  row.success = r.success;
  row.cache_status = r.cache_status;
  row.retry_count = r.retry_count;
  row.rescued_by = r.rescued_by;
  row.req_units = r.req_units;
  row.res_units = r.res_units;
  row.total_units = r.total_units;
  row.units_estimated = r.units_estimated;
  row.cost = r.cost;
  row.total_ms = r.total_ms;
  row.upstream_ms = r.upstream_ms;
  row.gateway_ms = r.gateway_ms;
  row.trace_id = r.trace_id;
  row.span_id = r.span_id;
  row.parent_span_id = r.parent_span_id;
  row.span_name = r.span_name;
  row.user = r.user;
  row.log_key = r.log_key;
  row.log_token = r.log_token;
  return row;
}
