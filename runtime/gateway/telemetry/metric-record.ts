import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayConfig } from '../../core/config-schema.js';
import { DEFAULT_CURRENCY, logKey, type MetricRecord } from '../../core/metrics.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import type { GatewayState } from '../sync/gateway-state.js';
import { cachedClientInfo } from './client-info.js';
import { costCents, priceFor, type ModelPrice } from './pricing.js';
import type { ResponseTap } from './response-tap.js';
import type { RequestLogEntry } from './types.js';
import { completionChars, estimateTokens, promptChars, resolveUsage, usageFromResponse } from './usage.js';

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

export const header = (headers: IncomingHttpHeaders | undefined, name: string): string | undefined => {
  const v = headers?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s : undefined;
};

const MAX_METADATA_KEYS = 64;

/**
 * Parsed metadata by (header text, key defaults): callers send the same few metadata headers over
 * and over, and parsing one was the largest part of building a record. Entries are shared and
 * never mutated (the wire encoder also relies on equal metadata being the same object); bounded.
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

interface Walked {
  virtualKey?: string;
  fellBack: boolean;
}

/** The last walk: a route's config object and leaf path repeat request after request, and the regex walk was ~0.7 µs a record. */
let lastWalk: { config: GatewayConfig | undefined; path: string | undefined; walked: Walked } | undefined;

function walkPath(config: GatewayConfig | undefined, path: string | undefined): Walked {
  const last = lastWalk;
  if (last && last.config === config && last.path === path) return last.walked;
  const walked = walkPathUncached(config, path);
  lastWalk = { config, path, walked };
  return walked;
}

/** Walks `config.targets[1].targets[0]` through the config: the leaf's virtual key, and whether a fallback moved past a first target. */
function walkPathUncached(config: GatewayConfig | undefined, path: string | undefined): Walked {
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

/** The last price looked up: traffic runs in long streaks of one provider/model. */
let lastPrice: { pricing: unknown; provider: string; model: string; price: ModelPrice | undefined } | undefined;

function priceOf(pricing: unknown, provider: string, model: string): ModelPrice | undefined {
  const last = lastPrice;
  if (last && last.pricing === pricing && last.provider === provider && last.model === model) return last.price;
  const price = priceFor(pricing, provider, model);
  lastPrice = { pricing, provider, model, price };
  return price;
}

let idBase = '';
let idSeq = 4096;
/**
 * Record ids: a fresh random UUID every 4,096 records, its last three hex digits replaced by a
 * counter. Still UUID-shaped and unique (110 random bits per base), at a string concatenation
 * per record instead of a randomUUID() call, which was a visible share of building one.
 */
function recordId(): string {
  if (idSeq === 4096) {
    idBase = randomUUID().slice(0, 33);
    idSeq = 0;
  }
  const n = idSeq++;
  return idBase + HEX3[n];
}
const HEX3 = Array.from({ length: 4096 }, (_, n) => n.toString(16).padStart(3, '0'));

const NO_CLIENT = { runtime: null, runtimeVersion: null, sdk: null, sdkVersion: null };

export interface BuiltRecord {
  record: MetricRecord;
  /** A response header, from what `writeHead` got or what was set on the response. */
  resHeader(name: string): string | undefined;
}

/**
 * One metric record from what the pipeline knew and what the response sent. Every lookup that
 * repeats across requests (metadata, client, price, endpoint, key) is cached by its input.
 */
export function buildMetricRecord(
  entry: RequestLogEntry,
  tap: ResponseTap | undefined,
  state: GatewayState,
  logMode: 'customer' | 'control-plane' | 'off',
  fetchKey: Buffer,
): BuiltRecord {
  const headers = entry.headers;
  const res = entry.res;
  const id = recordId();
  const byEndpoint = entry.routeFromEndpoint === true;
  const configHeader = byEndpoint ? undefined : header(headers, 'x-portkey-config');
  const saved = configHeader ? state.configs.get(configHeader) : undefined;
  const defaultConfig = !byEndpoint && !configHeader && !header(headers, 'x-portkey-virtual-key') && !header(headers, 'x-portkey-provider');
  const apiKey = findKey(state, entry.apiKeyId);
  const keyDefaults = defaultConfig || !saved ? apiKey : undefined;
  const savedOrDefault = saved ?? (defaultConfig && keyDefaults?.defaults?.config_id ? state.configs.get(keyDefaults.defaults.config_id) : undefined);
  const resHeader = (name: string): string | undefined => {
    const v = tap?.header(name) ?? res?.getHeader(name);
    return v === undefined ? undefined : String(v);
  };
  const routedByConfig = Boolean(configHeader || savedOrDefault);
  const optionIndex = resHeader('x-portkey-last-used-option-index') ?? (routedByConfig ? (entry.lastUsedOptionIndex ?? null) : null);
  const walked = walkPath(entry.config, optionIndex ?? entry.lastUsedOptionIndex);
  const virtualKey = (byEndpoint ? undefined : header(headers, 'x-portkey-virtual-key')) ?? walked.virtualKey ?? null;
  const success = entry.status >= 200 && entry.status < 300;
  const rescuedBy = !success ? null : walked.fellBack ? 'fallback' : entry.retries > 0 ? 'retry' : null;

  // Usage is read from the bytes as written; only an estimate (no usage reported) decodes text.
  const usage = resolveUsage(success && tap ? usageFromResponse(tap.headBytes(), tap.tailBytes()) : undefined, () => ({
    req: success ? estimateTokens(promptChars(entry.request)) : 0,
    res: success ? estimateTokens(completionChars(tap?.body()?.text ?? tap?.tail() ?? '')) : 0,
  }));
  const provider = entry.provider ?? null;
  const model = entry.model || null;
  const price = provider && model ? priceOf((state as { pricing?: unknown }).pricing, provider, model) : undefined;
  const upstreamMs = entry.upstreamStartedAt ? Math.max(0, entry.startedAt + entry.durationMs - entry.upstreamStartedAt) : 0;
  const totalMs = Math.max(0, Math.round(entry.durationMs));
  const upstream = Math.min(totalMs, Math.round(upstreamMs));
  const metadata = metadataOf(headers, apiKey?.defaults?.metadata ?? undefined);
  const body = entry.request as Record<string, unknown> | undefined;
  const client = headers ? cachedClientInfo(headers) : NO_CLIENT;
  const workspaceId = entry.workspaceId ?? savedOrDefault?.workspaceId ?? (virtualKey ? (state.virtualKeys.get(virtualKey)?.workspaceId ?? null) : null);
  const key = logMode === 'off' ? null : logKey(entry.organisationId, workspaceId, new Date(entry.startedAt), id);

  const record: MetricRecord = {
    id,
    created_at: isoOf(entry.startedAt),
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
    upstream_ms: upstream,
    gateway_ms: Math.max(0, totalMs - upstream),
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
  return { record, resHeader };
}
