import { z } from 'zod';

/**
 * One anonymised record per gateway request, in the fields of Portkey's analytics sample. The
 * gateway builds it off the response path, batches it and posts it to the control plane's
 * `POST /v1/ingest/metrics`; the control plane writes it to its metrics store.
 *
 * A record never carries a prompt, a completion, a header value or a key: only ids, counts,
 * timings and the caller's own `x-portkey-metadata`. It doubles as the log index row: when the
 * request's full log was kept, `log_location`/`log_key` say where its body lives.
 *
 * `id` is the idempotency key: the gateway retries a batch until it is acknowledged, and the
 * control plane inserts with `ON CONFLICT DO NOTHING`, so a retry never counts twice.
 */
export const INGEST_METRICS_PATH = '/v1/ingest/metrics';
export const INGEST_LOGS_PATH = '/v1/ingest/logs';
/** Cost is in cents of `currency`, as Portkey's analytics report it. */
export const DEFAULT_CURRENCY = 'USD';

const nullableText = (max: number) => z.string().max(max).nullable();
const count = z.number().int().nonnegative();

export const metricRecordSchema = z.object({
  id: z.string().min(8).max(64),
  /** When the request arrived (ISO 8601). */
  created_at: z.string().datetime({ offset: true }),
  organisation_id: z.string().min(1).max(64),
  workspace_id: nullableText(64),
  api_key_id: nullableText(64),
  virtual_key: nullableText(255),
  config_id: nullableText(64),
  config_version: z.number().int().nullable(),
  prompt_id: nullableText(64),
  prompt_version: z.number().int().nullable(),
  provider: nullableText(64),
  model: nullableText(255),
  /** chatComplete, complete, embed, messages, listModels, ... */
  endpoint: z.string().max(64),
  method: z.string().max(10),
  stream: z.boolean(),
  status: z.number().int(),
  success: z.boolean(),
  /** HIT, MISS, REFRESH, DISABLED (x-portkey-cache-status). */
  cache_status: nullableText(16),
  retry_count: count,
  last_used_option_index: nullableText(255),
  /** `retry` when retries turned a failure into a success, `fallback` when a later fallback target did. */
  rescued_by: z.enum(['retry', 'fallback']).nullable(),
  req_units: count,
  res_units: count,
  total_units: count,
  /** True when the provider reported no usage and the gateway estimated the tokens (≈ 4 characters a token). */
  units_estimated: z.boolean(),
  /** Cents of `currency`. */
  cost: z.number().nonnegative(),
  currency: z.string().max(8),
  /** True when no price was known for the model (cost is then 0). */
  cost_unknown: z.boolean(),
  total_ms: count,
  upstream_ms: count,
  gateway_ms: count,
  trace_id: nullableText(255),
  span_id: nullableText(255),
  parent_span_id: nullableText(255),
  span_name: nullableText(255),
  /** `x-portkey-metadata` (string values), merged over the API key's default metadata. */
  metadata: z.record(z.string().max(128), z.string().max(1024)),
  /** Portkey's `_user` metadata key (or the body's `user`). */
  user: nullableText(255),
  client_runtime: nullableText(64),
  client_runtime_version: nullableText(64),
  client_sdk: nullableText(64),
  client_sdk_version: nullableText(64),
  /** Where the full log lives: the customer's log store, the control plane's, or nowhere. */
  log_location: z.enum(['customer', 'control-plane']).nullable(),
  log_key: nullableText(512),
  /**
   * Customer mode only: the capability the control plane presents to the gateway's
   * `GET /v1/logs/:id` to fetch this one log (an HMAC of `log_key` under a key derived from the
   * gateway's data-plane credential, which the control plane stores only hashed).
   */
  log_token: nullableText(128),
});

export type MetricRecord = z.infer<typeof metricRecordSchema>;

export const ingestMetricsBodySchema = z.object({
  /** Where the control plane can reach this gateway for customer-mode logs (`GET /v1/logs/:id`). */
  gateway_url: z.string().url().max(2048).optional(),
  gateway_version: z.string().max(64).optional(),
  records: z.array(metricRecordSchema).max(10_000),
});
export type IngestMetricsBody = z.infer<typeof ingestMetricsBodySchema>;

/** Control-plane log mode: each log is an AWS Encryption SDK message the gateway sealed. */
export const encryptedLogSchema = z.object({
  id: z.string().min(8).max(64),
  organisation_id: z.string().min(1).max(64),
  workspace_id: z.string().max(64).nullable(),
  created_at: z.string().datetime({ offset: true }),
  key: z.string().max(512),
  /** Base64 Encryption SDK message; context from `logContext`. */
  ciphertext: z.string().max(16 * 1024 * 1024),
});
export type EncryptedLog = z.infer<typeof encryptedLogSchema>;

export const ingestLogsBodySchema = z.object({ logs: z.array(encryptedLogSchema).max(1000) });

/** The encryption context of a control-plane-mode log: a ciphertext moved to another log or tenant fails to decrypt. */
export function logContext(organisationId: string, workspaceId: string | null, logId: string): Record<string, string> {
  return { tollgate_org: organisationId, tollgate_workspace: workspaceId ?? '_org', tollgate_purpose: 'log', tollgate_log: logId };
}

/** `<org>/<workspace>/<yyyy>/<mm>/<dd>/<hh>/<log-id>.json`, in UTC. */
export function logKey(organisationId: string, workspaceId: string | null, createdAt: Date, logId: string): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const d = createdAt;
  return `${organisationId || '_unknown'}/${workspaceId ?? '_org'}/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}/${logId}.json`;
}

/**
 * The metrics store port. Postgres (default) keeps raw rows (the log index, searchable) and hourly
 * rollups; Timestream is an opt-in sink for the same records. `write` must be idempotent per id.
 */
export interface MetricsStore {
  /** Returns how many records were new (duplicates of earlier ids are skipped). */
  write(records: readonly MetricRecord[], source?: { credentialId?: string }): Promise<{ inserted: number }>;
  close(): Promise<void>;
}
