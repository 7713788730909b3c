import { ingestMetricsBodySchema, type IngestMetricsBody } from '../../core/metrics.js';
import { METRICS_FORMAT_COLUMNS, METRICS_FORMAT_ROWS, METRICS_FORMATS } from '../../core/metrics-wire.js';
import { badRequest } from '../http/problems.js';
import { validate } from '../http/validate.js';
import { decodeColumnarRecords } from './columnar.js';

/**
 * The ingest body's shape, checked by hand: the same rules as `metricRecordSchema`, at a fraction
 * of zod's cost per record (validation was a third of the ingest CPU at 20k records/s). Anything
 * that fails here goes through zod, which either accepts it (this check is only ever stricter) or
 * answers the documented 400 naming the bad field.
 */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const text = (v: unknown, max: number) => typeof v === 'string' && v.length <= max;
const nullableText = (v: unknown, max: number) => v === null || (typeof v === 'string' && v.length <= max);
const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
const count = (v: unknown) => int(v) && (v as number) >= 0;
const nullableInt = (v: unknown) => v === null || int(v);
const bool = (v: unknown) => typeof v === 'boolean';

function metadataOk(m: unknown): boolean {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return false;
  for (const k in m) {
    if (k.length > 128) return false;
    const v = (m as Record<string, unknown>)[k];
    if (typeof v !== 'string' || v.length > 1024) return false;
  }
  return true;
}

function recordOk(r: unknown): boolean {
  if (!r || typeof r !== 'object') return false;
  const o = r as Record<string, unknown>;
  return (
    typeof o.id === 'string' && o.id.length >= 8 && o.id.length <= 64 &&
    typeof o.created_at === 'string' && ISO.test(o.created_at) && !Number.isNaN(Date.parse(o.created_at)) &&
    typeof o.organisation_id === 'string' && o.organisation_id.length >= 1 && o.organisation_id.length <= 64 &&
    nullableText(o.workspace_id, 64) && nullableText(o.api_key_id, 64) && nullableText(o.virtual_key, 255) &&
    nullableText(o.config_id, 64) && nullableInt(o.config_version) && nullableText(o.prompt_id, 64) && nullableInt(o.prompt_version) &&
    nullableText(o.provider, 64) && nullableText(o.model, 255) && text(o.endpoint, 64) && text(o.method, 10) &&
    bool(o.stream) && int(o.status) && bool(o.success) && nullableText(o.cache_status, 16) && count(o.retry_count) &&
    nullableText(o.last_used_option_index, 255) && (o.rescued_by === null || o.rescued_by === 'retry' || o.rescued_by === 'fallback') &&
    count(o.req_units) && count(o.res_units) && count(o.total_units) && bool(o.units_estimated) &&
    typeof o.cost === 'number' && Number.isFinite(o.cost) && o.cost >= 0 && text(o.currency, 8) && bool(o.cost_unknown) &&
    count(o.total_ms) && count(o.upstream_ms) && count(o.gateway_ms) &&
    nullableText(o.trace_id, 255) && nullableText(o.span_id, 255) && nullableText(o.parent_span_id, 255) && nullableText(o.span_name, 255) &&
    metadataOk(o.metadata) && nullableText(o.user, 255) &&
    nullableText(o.client_runtime, 64) && nullableText(o.client_runtime_version, 64) && nullableText(o.client_sdk, 64) && nullableText(o.client_sdk_version, 64) &&
    (o.log_location === null || o.log_location === 'customer' || o.log_location === 'control-plane') &&
    nullableText(o.log_key, 512) && nullableText(o.log_token, 128)
  );
}

const urlOk = (v: unknown) => typeof v === 'string' && v.length <= 2048 && /^https?:\/\//i.test(v) && URL.canParse(v);

/**
 * Any format this control plane reads (runtime/core/metrics-wire.ts) → format 1 rows, checked.
 * An unknown `format` is a 400 naming the ones it reads: the gateway keeps the batch and retries.
 */
export function checkIngestMetricsBody(body: unknown): IngestMetricsBody {
  const format = body && typeof body === 'object' ? (body as Record<string, unknown>).format : undefined;
  if (format === undefined || format === METRICS_FORMAT_ROWS) return checkRows(body);
  if (format === METRICS_FORMAT_COLUMNS) {
    const b = body as Record<string, unknown>;
    return checkRows({ gateway_url: b.gateway_url, gateway_version: b.gateway_version, records: decodeColumnarRecords(b) });
  }
  throw badRequest(
    `format: unsupported metrics batch format ${JSON.stringify(format)}; this control plane reads formats ${METRICS_FORMATS.join(', ')} (${METRICS_FORMAT_ROWS}: rows, ${METRICS_FORMAT_COLUMNS}: columns)`,
  );
}

function checkRows(body: unknown): IngestMetricsBody {
  const b = body as Record<string, unknown> | null;
  const fast =
    !!b && typeof b === 'object' && Array.isArray(b.records) && b.records.length <= 10_000 &&
    (b.gateway_url === undefined || urlOk(b.gateway_url)) && (b.gateway_version === undefined || text(b.gateway_version, 64)) &&
    (b.records as unknown[]).every(recordOk);
  return fast ? (b as IngestMetricsBody) : validate(ingestMetricsBodySchema, body);
}
