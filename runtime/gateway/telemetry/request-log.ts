import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../core/config-schema.js';
import type { Keyring } from '../../core/keyring.js';
import type { Logger } from '../../core/logger.js';
import {
  DEFAULT_CURRENCY,
  INGEST_LOGS_PATH,
  INGEST_METRICS_PATH,
  logContext,
  logKey,
  type EncryptedLog,
  type MetricRecord,
} from '../../core/metrics.js';
import type { LogStore } from '../../core/ports.js';
import { TOLLGATE_VERSION } from '../../core/version.js';
import { hashSecret } from '../../core/secrets.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import type { GatewayState } from '../sync/gateway-state.js';
import { clientInfo } from './client-info.js';
import { maskHeaders, maskJson, scrubSecrets, secretsOf } from './mask.js';
import { costCents, priceFor } from './pricing.js';
import { tapResponse, type ResponseTap } from './response-tap.js';
import { Shipper, type ShipperStats, type SpoolBudget } from './spool.js';
import { completionChars, estimateTokens, promptChars, resolveUsage, usageFromResponse } from './usage.js';
import { guardrailLogFields } from '../guardrails/telemetry.js';

/** What one request leaves behind. The pipeline fills what it knows; the rest is read from headers here. */
export interface RequestLogEntry {
  traceId: string;
  organisationId: string;
  workspaceId: string | null;
  apiKeyId: string;
  method: string;
  path: string;
  status: number;
  provider?: string;
  model?: string;
  stream: boolean;
  retries: number;
  lastUsedOptionIndex?: string;
  startedAt: number;
  durationMs: number;
  /** The parsed request body (masked before it is stored). */
  request?: unknown;
  /** The caller's headers: credentials are masked, x-portkey-metadata/trace/span and SDK headers are read. */
  headers?: IncomingHttpHeaders;
  /** The response, when `observe(res)` tapped it: status headers and usage are read from it. */
  res?: ServerResponse;
  /** The route config that ran (saved, inline or default): names the virtual key and fallback positions. */
  config?: GatewayConfig;
  /** When the first upstream call started (ms epoch): splits upstream from gateway time. */
  upstreamStartedAt?: number;
  /** Extra secret values in play (e.g. the resolved provider key), scrubbed from the stored log. */
  secrets?: readonly string[];
  endpoint?: string;
  promptId?: string;
  promptVersion?: number;
  /** The endpoint chose the route itself (a prompt's virtual key or provider), not the routing headers. */
  routeFromEndpoint?: boolean;
}

export interface TelemetryOptions {
  /** @default true */
  enabled?: boolean;
  /**
   * Full request/response logs: `customer` writes them to the gateway's own log store (needs
   * `logStore`), `control-plane` encrypts each one with the keyring and sends it to the control
   * plane, `off` keeps none. Default: `customer` when a log store is given, else `off`.
   */
  logMode?: 'customer' | 'control-plane' | 'off';
  /** Directory for the durable spool; without one, undelivered batches wait in memory only. */
  spoolDir?: string;
  /** @default 100 MiB */
  spoolMaxBytes?: number;
  /** @default 3000 */
  flushIntervalMs?: number;
  /** @default 500 */
  batchSize?: number;
  /** Cap on the request and on the response body kept in one log; @default 1 MiB. */
  logBodyMaxBytes?: number;
  /** The URL the control plane uses to fetch customer-mode logs from this gateway; default: its own URL. */
  publicUrl?: string;
  /** @default 1000 */
  retryBaseMs?: number;
  /** @default 60000 */
  retryMaxMs?: number;
}

export interface TelemetryDeps {
  controlPlaneUrl: string;
  dataPlaneToken: string;
  keyring: Keyring;
  logStore?: LogStore;
  state(): GatewayState;
  logger: Logger;
  options?: TelemetryOptions;
}

export interface TelemetryStats {
  enabled: boolean;
  /** Requests that failed before routing: recorded as metrics, or only counted (no known API key). */
  rejected: { recorded: number; unauthenticated: number };
  log_mode: 'customer' | 'control-plane' | 'off';
  metrics: ShipperStats;
  logs: ShipperStats;
  spool: { dir: string | null; used_bytes: number; max_bytes: number };
  /** Everything a full spool dropped, metrics and logs. */
  dropped_total: number;
}

export interface RequestLogger {
  /** False when telemetry is off: the pipeline then skips observe() and record() altogether. */
  readonly enabled: boolean;
  /** Call before the response is written: taps its bytes for usage and, with logs on, the body. */
  observe(res: ServerResponse): void;
  /** Synchronous and cheap: queues the entry; everything else happens later, off the response path. */
  record(entry: RequestLogEntry): void;
  /**
   * A request that failed before the pipeline recorded it (bad body, bad header, unknown config,
   * limits, an error thrown while routing): one record with what is known. A missing or unknown
   * API key has no tenant to charge it to: it is only counted (`tollgate_requests_rejected_total`),
   * so made-up keys cannot fill an organisation's analytics or the database.
   */
  rejected(req: IncomingMessage, res: ServerResponse, status: number): void;
  /** Ships everything queued now (tests, shutdown). */
  flush(): Promise<void>;
  /** `GET /v1/logs/:id` for the control plane (customer log mode). */
  serveLog(req: IncomingMessage, res: ServerResponse, logId: string): Promise<void>;
  stats(): TelemetryStats;
  setPublicUrl(url: string): void;
  close(): Promise<void>;
}

const ENDPOINTS: [RegExp, string][] = [
  [/\/chat\/completions$/, 'chatComplete'],
  [/\/completions$/, 'complete'],
  [/\/embeddings$/, 'embed'],
  [/\/messages$/, 'messages'],
  [/\/models$/, 'listModels'],
  [/\/images\/generations$/, 'imageGenerate'],
  [/\/prompts\/[^/]+\/completions$/, 'promptComplete'],
];

const endpointNames = new Map<string, string>();

/** The endpoint name for a request path; paths repeat, so each distinct one is matched once (bounded). */
function endpointOf(path: string): string {
  let name = endpointNames.get(path);
  if (name === undefined) {
    const p = path.split('?')[0];
    name = ENDPOINTS.find(([re]) => re.test(p))?.[1] ?? p.slice(0, 64);
    if (endpointNames.size >= 1000) endpointNames.delete(endpointNames.keys().next().value!);
    endpointNames.set(path, name);
  }
  return name;
}

const header = (headers: IncomingHttpHeaders | undefined, name: string): string | undefined => {
  const v = headers?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s : undefined;
};

const MAX_METADATA_KEYS = 64;

/**
 * Parsed metadata by (header text, key defaults): callers send the same few metadata headers over
 * and over, and parsing one was the largest part of building a record. Entries are shared and
 * never mutated; the map is bounded.
 */
const metadataCache = new Map<string, { defaults: Record<string, string> | undefined; value: Record<string, string> }>();

function metadataOf(headers: IncomingHttpHeaders | undefined, defaults: Record<string, string> | undefined): Record<string, string> {
  const raw = header(headers, 'x-portkey-metadata') ?? '';
  const hit = metadataCache.get(raw);
  if (hit && hit.defaults === defaults) return hit.value;
  const out: Record<string, string> = { ...(defaults ?? {}) };
  if (raw) {
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
          if (v === null || v === undefined) continue;
          out[k.slice(0, 128)] = (typeof v === 'string' ? v : JSON.stringify(v)).slice(0, 1024);
        }
      }
    } catch {
      // Not JSON: ignored for metrics (the request itself was still served).
    }
  }
  const keys = Object.keys(out);
  if (keys.length > MAX_METADATA_KEYS) for (const k of keys.slice(MAX_METADATA_KEYS)) delete out[k];
  if (raw.length <= 4096) {
    if (metadataCache.size >= 1000) metadataCache.delete(metadataCache.keys().next().value!);
    metadataCache.set(raw, { defaults, value: out });
  }
  return out;
}

/** Walks `config.targets[1].targets[0]` through the config: the leaf's virtual key, and whether a fallback moved past a first target. */
function walkPath(config: GatewayConfig | undefined, path: string | undefined): { virtualKey?: string; fellBack: boolean } {
  if (!config || !path || !path.includes('[')) return { virtualKey: config?.virtual_key, fellBack: false };
  let node: GatewayConfig | undefined = config;
  let virtualKey = config.virtual_key;
  let fellBack = false;
  for (const m of path.matchAll(/targets\[(\d+)\]/g)) {
    const index = Number(m[1]);
    if (node?.strategy?.mode === 'fallback' && index > 0) fellBack = true;
    node = node?.targets?.[index];
    if (node?.virtual_key) virtualKey = node.virtual_key;
  }
  return { virtualKey, fellBack };
}

let isoSecond = -1;
let isoPrefix = '';
/** `toISOString()` of an ms epoch, formatting the date part once per second (records come in bursts). */
function isoOf(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const frac = ms - second * 1000;
  return `${isoPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

const str = (v: unknown, max = 255): string | null => (typeof v === 'string' && v ? v.slice(0, max) : null);

/** A key derived from the data-plane token: the control plane stores the token only hashed, so it cannot mint log tokens itself. */
function logFetchKey(dataPlaneToken: string): Buffer {
  return createHmac('sha256', dataPlaneToken).update('tollgate-log-fetch-v1').digest();
}

export function logFetchToken(dataPlaneToken: string, key: string): string {
  return createHmac('sha256', logFetchKey(dataPlaneToken)).update(key).digest('base64url');
}

interface Pending {
  entry: RequestLogEntry;
  tap?: ResponseTap;
}

/** All live telemetry instances: `telemetryStats()` reports them for health and Prometheus. */
const live = new Set<RequestLogger>();

/** Counters of every running gateway in this process (normally one): for /metrics and health. */
export function telemetryStats(): TelemetryStats[] {
  return [...live].map((t) => t.stats());
}

/** Prometheus text lines for the telemetry counters (no HELP/TYPE duplication across gateways). */
export function telemetryPrometheus(): string {
  const stats = telemetryStats();
  const lines = [
    '# HELP tollgate_telemetry_spool_bytes Bytes waiting in the telemetry spool.',
    '# TYPE tollgate_telemetry_spool_bytes gauge',
    '# HELP tollgate_telemetry_spooled_items Metric records and logs waiting in the spool.',
    '# TYPE tollgate_telemetry_spooled_items gauge',
    '# HELP tollgate_telemetry_dropped_total Metric records and logs a full spool dropped.',
    '# TYPE tollgate_telemetry_dropped_total counter',
    '# HELP tollgate_telemetry_sent_total Metric records and logs delivered.',
    '# TYPE tollgate_telemetry_sent_total counter',
    '# HELP tollgate_requests_rejected_total Requests that failed before routing, by whether a metric record could name the API key.',
    '# TYPE tollgate_requests_rejected_total counter',
  ];
  for (const s of stats) {
    lines.push(`tollgate_telemetry_spool_bytes ${s.spool.used_bytes}`);
    for (const kind of ['metrics', 'logs'] as const) {
      lines.push(`tollgate_telemetry_spooled_items{kind="${kind}"} ${s[kind].spooledItems}`);
      lines.push(`tollgate_telemetry_dropped_total{kind="${kind}"} ${s[kind].droppedItems}`);
      lines.push(`tollgate_telemetry_sent_total{kind="${kind}"} ${s[kind].sentItems}`);
    }
    lines.push(`tollgate_requests_rejected_total{reason="recorded"} ${s.rejected.recorded}`);
    lines.push(`tollgate_requests_rejected_total{reason="unauthenticated"} ${s.rejected.unauthenticated}`);
  }
  return lines.join('\n') + '\n';
}

async function postJson(url: string, token: string, body: unknown, timeoutMs = 10_000): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-tollgate-gateway-version': TOLLGATE_VERSION },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text().catch(() => '');
  // 4xx other than 408/429 will not get better by retrying, but dropping silently loses data:
  // treat everything non-2xx as a failure; the spool bounds the cost.
  if (!res.ok) throw new Error(`control plane answered ${res.status}: ${text.slice(0, 200)}`);
}

async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

interface CustomerLog {
  key: string;
  body: string;
}

export function createTelemetry(deps: TelemetryDeps): RequestLogger {
  const opts = deps.options ?? {};
  const enabled = opts.enabled !== false;
  const logMode = !enabled ? 'off' : (opts.logMode ?? (deps.logStore ? 'customer' : 'off'));
  if (logMode === 'customer' && !deps.logStore) throw new Error('telemetry logMode "customer" needs a logStore');
  const captureBytes = logMode === 'off' ? 0 : (opts.logBodyMaxBytes ?? 1024 * 1024);
  const budget: SpoolBudget = { maxBytes: opts.spoolMaxBytes ?? 100 * 1024 * 1024, usedBytes: 0 };
  const cp = deps.controlPlaneUrl.replace(/\/+$/, '');
  let publicUrl = opts.publicUrl;
  const fetchKey = logFetchKey(deps.dataPlaneToken);
  const common = {
    budget,
    batchSize: opts.batchSize ?? 500,
    flushIntervalMs: opts.flushIntervalMs ?? 3000,
    backoffBaseMs: opts.retryBaseMs ?? 1000,
    backoffMaxMs: opts.retryMaxMs ?? 60_000,
    logger: deps.logger,
  };
  const spoolDir = (sub: string) => (opts.spoolDir ? `${opts.spoolDir}/${sub}` : undefined);

  const metrics = new Shipper<MetricRecord>({
    ...common,
    name: 'metrics',
    spoolDir: spoolDir('metrics'),
    send: (records) =>
      postJson(`${cp}${INGEST_METRICS_PATH}`, deps.dataPlaneToken, { gateway_url: publicUrl, gateway_version: TOLLGATE_VERSION, records }),
  });
  const logs =
    logMode === 'customer'
      ? new Shipper<CustomerLog>({
          ...common,
          name: 'logs',
          batchSize: 50,
          flushIntervalMs: Math.min(common.flushIntervalMs, 1000),
          spoolDir: spoolDir('logs'),
          send: (items) => runLimited(items, 8, (item) => deps.logStore!.put(item.key, item.body)),
        })
      : new Shipper<EncryptedLog>({
          ...common,
          name: 'logs',
          batchSize: 50,
          spoolDir: logMode === 'control-plane' ? spoolDir('logs') : undefined,
          send: (items) => postJson(`${cp}${INGEST_LOGS_PATH}`, deps.dataPlaneToken, { logs: items }, 30_000),
        });

  let pending: Pending[] = [];
  let scheduled = false;
  /** Responses the pipeline recorded: an error thrown after that (while replying) is not recorded again. */
  const recorded = new WeakSet<ServerResponse>();
  const rejected = { recorded: 0, unauthenticated: 0 };
  const taps = new WeakMap<ServerResponse, ResponseTap>();
  const encrypting = new Set<Promise<void>>();

  const build = ({ entry, tap }: Pending) => {
    const state = deps.state();
    const headers = entry.headers;
    const res = entry.res;
    const id = randomUUID();
    const createdAt = new Date(entry.startedAt);
    const byEndpoint = entry.routeFromEndpoint === true;
    const configHeader = byEndpoint ? undefined : header(headers, 'x-portkey-config');
    const saved = configHeader ? state.configs.get(configHeader) : undefined;
    const defaultConfig = !byEndpoint && !configHeader && !header(headers, 'x-portkey-virtual-key') && !header(headers, 'x-portkey-provider');
    const keyDefaults = defaultConfig || !saved ? findKey(state, entry.apiKeyId) : undefined;
    const savedOrDefault = saved ?? (defaultConfig && keyDefaults?.defaults?.config_id ? state.configs.get(keyDefaults.defaults.config_id) : undefined);
    const resHeader = (name: string) => {
      const v = tap?.headers[name] ?? res?.getHeader(name);
      return v === undefined ? undefined : String(v);
    };
    const routedByConfig = Boolean(configHeader || savedOrDefault);
    const optionIndex = resHeader('x-portkey-last-used-option-index') ?? (routedByConfig ? (entry.lastUsedOptionIndex ?? null) : null);
    const walked = walkPath(entry.config, optionIndex ?? entry.lastUsedOptionIndex);
    const virtualKey = (byEndpoint ? undefined : header(headers, 'x-portkey-virtual-key')) ?? walked.virtualKey ?? null;
    const success = entry.status >= 200 && entry.status < 300;
    const rescuedBy = !success ? null : walked.fellBack ? 'fallback' : entry.retries > 0 ? 'retry' : null;

    const head = tap?.head() ?? '';
    const tail = tap?.tail() ?? '';
    const captured = tap?.body();
    const usage = resolveUsage(success ? usageFromResponse(head, tail) : undefined, () => ({
      req: success ? estimateTokens(promptChars(entry.request)) : 0,
      res: success ? estimateTokens(completionChars(captured?.text ?? tail)) : 0,
    }));
    const provider = entry.provider ?? null;
    const model = entry.model || null;
    const price = provider && model ? priceFor((state as { pricing?: unknown }).pricing, provider, model) : undefined;
    const upstreamMs = entry.upstreamStartedAt ? Math.max(0, entry.startedAt + entry.durationMs - entry.upstreamStartedAt) : 0;
    const totalMs = Math.max(0, Math.round(entry.durationMs));
    const metadata = metadataOf(headers, findKey(state, entry.apiKeyId)?.defaults?.metadata ?? undefined);
    const body = entry.request as Record<string, unknown> | undefined;
    const client = headers ? clientInfo(headers) : { runtime: null, runtimeVersion: null, sdk: null, sdkVersion: null };
    const workspaceId = entry.workspaceId ?? savedOrDefault?.workspaceId ?? (virtualKey ? (state.virtualKeys.get(virtualKey)?.workspaceId ?? null) : null);
    const key = logMode === 'off' ? null : logKey(entry.organisationId, workspaceId, createdAt, id);

    const record: MetricRecord = {
      id,
      created_at: isoOf(createdAt.getTime()),
      organisation_id: entry.organisationId,
      workspace_id: workspaceId,
      api_key_id: entry.apiKeyId || null,
      virtual_key: str(virtualKey),
      config_id: savedOrDefault?.id ?? null,
      config_version: savedOrDefault?.version ?? null,
      prompt_id: str(entry.promptId, 64),
      prompt_version: entry.promptVersion ?? null,
      provider: str(provider, 64),
      model: str(model),
      endpoint: entry.endpoint ?? endpointOf(entry.path),
      method: entry.method.slice(0, 10),
      stream: entry.stream,
      status: entry.status,
      success,
      cache_status: str(resHeader('x-portkey-cache-status'), 16) ?? 'DISABLED',
      retry_count: Math.max(0, entry.retries),
      last_used_option_index: str(optionIndex),
      rescued_by: rescuedBy,
      req_units: usage.req,
      res_units: usage.res,
      total_units: usage.total,
      units_estimated: usage.estimated,
      cost: costCents(price, usage.req, usage.res),
      currency: price?.currency ?? DEFAULT_CURRENCY,
      cost_unknown: !price,
      total_ms: totalMs,
      upstream_ms: Math.min(totalMs, Math.round(upstreamMs)),
      gateway_ms: Math.max(0, totalMs - Math.min(totalMs, Math.round(upstreamMs))),
      trace_id: str(entry.traceId),
      span_id: str(header(headers, 'x-portkey-span-id')),
      parent_span_id: str(header(headers, 'x-portkey-parent-span-id')),
      span_name: str(header(headers, 'x-portkey-span-name')),
      metadata,
      user: str(metadata._user) ?? str(body?.user),
      client_runtime: client.runtime,
      client_runtime_version: client.runtimeVersion,
      client_sdk: client.sdk,
      client_sdk_version: client.sdkVersion,
      log_location: logMode === 'off' ? null : logMode,
      log_key: key,
      log_token: logMode === 'customer' && key ? createHmac('sha256', fetchKey).update(key).digest('base64url') : null,
    };
    metrics.add(record);
    if (logMode === 'off' || !key) return;

    // The full log: masked headers and bodies, then every known secret scrubbed from the text.
    const responseText = captured?.text ?? '';
    let responseBody: unknown = responseText;
    const contentType = resHeader('content-type') ?? '';
    if (contentType.includes('json') && !captured?.truncated) {
      try {
        responseBody = JSON.parse(responseText);
      } catch {
        responseBody = responseText;
      }
    }
    let requestBody: unknown = entry.request === undefined ? null : maskJson(entry.request);
    const requestText = requestBody === null ? '' : JSON.stringify(requestBody);
    if (requestText.length > captureBytes) requestBody = { truncated: true, text: requestText.slice(0, captureBytes) };
    const responseHeaders: Record<string, string> = {};
    for (const name of ['content-type', 'x-portkey-trace-id', 'x-portkey-provider', 'x-portkey-retry-attempt-count', 'x-portkey-cache-status', 'x-portkey-last-used-option-index']) {
      const v = resHeader(name);
      if (v !== undefined) responseHeaders[name] = v;
    }
    const { log_token: _omit, ...index } = record;
    void _omit;
    const log = {
      id,
      trace_id: record.trace_id,
      created_at: record.created_at,
      organisation_id: record.organisation_id,
      workspace_id: record.workspace_id,
      request: { method: entry.method, url: entry.path, headers: headers ? maskHeaders(headers) : {}, body: requestBody },
      response: {
        status: entry.status,
        headers: responseHeaders,
        body: responseBody,
        truncated: captured?.truncated ?? false,
        response_time: totalMs,
        ...guardrailLogFields(res),
      },
      metrics: index,
    };
    const text = scrubSecrets(JSON.stringify(log), headers ? secretsOf(headers, entry.secrets ?? []) : [...(entry.secrets ?? [])]);
    if (logMode === 'customer') {
      (logs as Shipper<CustomerLog>).add({ key, body: text });
    } else {
      const sealing = deps.keyring
        .encrypt(text, logContext(record.organisation_id, record.workspace_id, id))
        .then((ciphertext) =>
          (logs as Shipper<EncryptedLog>).add({ id, organisation_id: record.organisation_id, workspace_id: record.workspace_id, created_at: record.created_at, key, ciphertext }),
        )
        .catch((err: Error) => deps.logger.warn('log encryption failed; log dropped', { reason: err.message }))
        .finally(() => encrypting.delete(sealing));
      encrypting.add(sealing);
    }
  };

  const process = () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    for (const p of batch) {
      try {
        build(p);
      } catch (err) {
        deps.logger.warn('telemetry record failed', { reason: (err as Error).message });
      }
    }
  };

  const flush = async () => {
    if (pending.length) process();
    await Promise.all([...encrypting]);
    await Promise.all([metrics.flush(), logs.flush()]);
  };

  const telemetry: RequestLogger = {
    enabled,
    observe(res) {
      if (!enabled) return;
      taps.set(res, tapResponse(res, captureBytes));
    },
    record(entry) {
      if (!enabled || !entry.organisationId) return;
      if (entry.res) recorded.add(entry.res);
      pending.push({ entry, tap: entry.res ? taps.get(entry.res) : undefined });
      if (!scheduled) {
        scheduled = true;
        setImmediate(process);
      }
    },
    rejected(req, res, status) {
      if (!enabled || recorded.has(res)) return;
      const state = deps.state();
      const presented = header(req.headers, 'x-portkey-api-key');
      // A 401 means the key is missing, unknown, revoked or expired: nobody to charge it to.
      const key = status === 401 || !presented ? undefined : state.apiKeysByHash.get(hashSecret(presented));
      if (!key || !state.organisationId) {
        rejected.unauthenticated++;
        return;
      }
      rejected.recorded++;
      const trace = header(req.headers, 'x-portkey-trace-id') ?? res.getHeader('x-portkey-trace-id');
      telemetry.record({
        traceId: trace ? String(trace) : randomUUID(),
        organisationId: state.organisationId,
        workspaceId: key.workspace_id,
        apiKeyId: key.id,
        method: req.method ?? 'POST',
        path: req.url ?? '',
        status,
        provider: header(req.headers, 'x-portkey-provider'),
        stream: false,
        retries: 0,
        // Failed before any upstream call: the time spent is the gateway's own, a few ms at most.
        startedAt: Date.now(),
        durationMs: 0,
        headers: req.headers,
        res,
      });
    },
    flush,
    async serveLog(req, res, logId) {
      const send = (status: number, body: unknown) => {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(text);
      };
      const url = new URL(req.url ?? '/', 'http://gateway');
      const key = url.searchParams.get('key') ?? '';
      const presented = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
      const expected = createHmac('sha256', fetchKey).update(key).digest('base64url');
      const ok = key.endsWith(`/${logId}.json`) && presented.length === expected.length && timingSafeEqual(Buffer.from(presented), Buffer.from(expected));
      if (!ok) return send(401, { status: 'failure', message: 'this endpoint answers only the control plane' });
      if (logMode !== 'customer' || !deps.logStore) return send(404, { status: 'failure', message: 'this gateway keeps no logs' });
      const body = await deps.logStore.get(key).catch(() => undefined);
      if (body === undefined) return send(404, { status: 'failure', message: `log ${logId} not found` });
      send(200, body);
    },
    stats() {
      return {
        enabled,
        rejected: { ...rejected },
        log_mode: logMode,
        metrics: { ...metrics.stats },
        logs: { ...logs.stats },
        spool: { dir: opts.spoolDir ?? null, used_bytes: budget.usedBytes, max_bytes: budget.maxBytes },
        dropped_total: metrics.stats.droppedItems + logs.stats.droppedItems,
      };
    },
    setPublicUrl(url) {
      publicUrl ??= url;
    },
    async close() {
      live.delete(telemetry);
      if (pending.length) process();
      await Promise.all([...encrypting]);
      await Promise.all([metrics.close(), logs.close()]);
    },
  };
  live.add(telemetry);
  return telemetry;
}

const keysById = new WeakMap<GatewayState, Map<string, SyncApiKey>>();

/** API keys by id, built once per synced state (the state object is immutable). */
function findKey(state: GatewayState, apiKeyId: string): SyncApiKey | undefined {
  let byId = keysById.get(state);
  if (!byId) {
    byId = new Map([...state.apiKeysByHash.values()].map((k) => [k.id, k]));
    keysById.set(state, byId);
  }
  return byId.get(apiKeyId);
}
