/** A log index row as the API shows it: Portkey-ish names (plus aliases the UI reads), never the fetch token. */
export interface MetricRow {
  id: string;
  organisation_id: string;
  workspace_id: string | null;
  created_at: Date | string;
  source_id: string | null;
  api_key_id: string | null;
  virtual_key: string | null;
  config_id: string | null;
  config_version: number | null;
  prompt_id: string | null;
  prompt_version: number | null;
  provider: string | null;
  model: string | null;
  endpoint: string;
  method: string;
  stream: boolean;
  status: number;
  success: boolean;
  cache_status: string | null;
  retry_count: number;
  last_used_option_index: string | null;
  rescued_by: string | null;
  req_units: number;
  res_units: number;
  total_units: number;
  units_estimated: boolean;
  cost: number;
  currency: string;
  cost_unknown: boolean;
  total_ms: number;
  upstream_ms: number;
  gateway_ms: number;
  trace_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  span_name: string | null;
  metadata: Record<string, string>;
  end_user: string | null;
  client_runtime: string | null;
  client_runtime_version: string | null;
  client_sdk: string | null;
  client_sdk_version: string | null;
  log_location: string | null;
  log_key: string | null;
  log_token: string | null;
}

export function presentLog(r: MetricRow) {
  return {
    id: r.id,
    object: 'log',
    created_at: new Date(r.created_at).toISOString(),
    organisation_id: r.organisation_id,
    workspace_id: r.workspace_id,
    trace_id: r.trace_id,
    span_id: r.span_id,
    parent_span_id: r.parent_span_id,
    span_name: r.span_name,
    api_key_id: r.api_key_id,
    virtual_key: r.virtual_key,
    config_id: r.config_id,
    config_version: r.config_version,
    prompt_id: r.prompt_id,
    prompt_version: r.prompt_version,
    provider: r.provider,
    ai_provider: r.provider,
    model: r.model,
    ai_model: r.model,
    endpoint: r.endpoint,
    method: r.method,
    stream: r.stream,
    status: r.status,
    response_status_code: r.status,
    success: r.success,
    cache_status: r.cache_status,
    retry_count: r.retry_count,
    last_used_option_index: r.last_used_option_index,
    rescued_by: r.rescued_by,
    req_units: r.req_units,
    res_units: r.res_units,
    total_units: r.total_units,
    units_estimated: r.units_estimated,
    /** Cents of `currency`. */
    cost: r.cost,
    currency: r.currency,
    cost_unknown: r.cost_unknown,
    response_time: r.total_ms,
    total_ms: r.total_ms,
    upstream_ms: r.upstream_ms,
    gateway_ms: r.gateway_ms,
    metadata: r.metadata,
    user: r.end_user,
    client_runtime: r.client_runtime,
    client_runtime_version: r.client_runtime_version,
    client_sdk: r.client_sdk,
    client_sdk_version: r.client_sdk_version,
    log_location: r.log_location,
    has_body: Boolean(r.log_location && r.log_key),
  };
}

export type PresentedLog = ReturnType<typeof presentLog>;

const CSV_COLUMNS: (keyof PresentedLog)[] = [
  'id', 'created_at', 'trace_id', 'workspace_id', 'api_key_id', 'virtual_key', 'config_id', 'config_version', 'prompt_id', 'prompt_version',
  'provider', 'model', 'endpoint', 'stream', 'status', 'success', 'cache_status', 'retry_count', 'last_used_option_index', 'rescued_by',
  'req_units', 'res_units', 'total_units', 'units_estimated', 'cost', 'currency', 'total_ms', 'upstream_ms', 'gateway_ms', 'user', 'metadata',
];

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Quote always when needed; a leading =,+,-,@ is prefixed so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(rows: PresentedLog[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}
