import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { logKey } from '../../core/metrics.js';
import type { GatewayState } from '../sync/gateway-state.js';
import { cachedClientInfo } from './client-info.js';
import { assignRecordId, rowId, type MetricRow } from './metric-row.js';
import { costCents } from './pricing.js';
import type { ResponseTap } from './response-tap.js';
import { RouteFactsCache, str, type RouteHeaders } from './route-facts.js';
import type { RequestLogEntry } from './types.js';
import { completionChars, estimateTokens, promptChars, resolveUsage, usageFromResponse } from './usage.js';

export const header = (headers: IncomingHttpHeaders | undefined, name: string): string | undefined => {
  const v = headers?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s : undefined;
};

/** A header's value (Node joins repeated x-* headers into one string; an array only for a few standard ones). */
const one = (v: string | string[] | undefined): string | undefined => (typeof v === 'string' ? v || undefined : v?.[0] || undefined);

const MAX_METADATA_KEYS = 64;

/**
 * Parsed metadata by (header text, key defaults): callers send the same few metadata headers over
 * and over, and parsing one was the largest part of building a record. Entries are shared and
 * never mutated (the wire encoder also relies on equal metadata being the same object); bounded.
 */
const metadataCache = new Map<string, { defaults: Record<string, string> | undefined; value: Record<string, string> }>();

function metadataOf(headers: IncomingHttpHeaders | undefined, defaults: Record<string, string> | undefined): Record<string, string> {
  const raw = one(headers?.['x-portkey-metadata']) ?? '';
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

const NO_CLIENT = { runtime: null, runtimeVersion: null, sdk: null, sdkVersion: null };

/** A response header, from what `writeHead` got or what was set on the response. */
export function resHeaderOf(tap: ResponseTap | undefined, res: ServerResponse | undefined, name: string): string | undefined {
  const v = tap?.header(name) ?? res?.getHeader(name);
  return v === undefined ? undefined : String(v);
}

const unreachable = (): never => {
  throw new Error('usage: an estimate was asked for reported usage');
};

/**
 * Fills metric rows from what the pipeline knew and what the response sent. The route part comes
 * from a per-route cache (route-facts.ts); what repeats across requests otherwise (metadata,
 * client) is cached by its input. Nothing is allocated per record beyond its usage.
 */
export class RowBuilder {
  readonly routes: RouteFactsCache;
  private readonly routeHeaders: RouteHeaders = { config: undefined, virtualKey: undefined, provider: undefined, optionIndex: undefined };

  constructor(
    private readonly logMode: 'customer' | 'control-plane' | 'off',
    private readonly fetchKey: Buffer,
  ) {
    this.routes = new RouteFactsCache(logMode === 'off' ? null : logMode);
  }

  fill(row: MetricRow, entry: RequestLogEntry, tap: ResponseTap | undefined, state: GatewayState): void {
    const headers = entry.headers;
    const res = entry.res;
    const h = this.routeHeaders;
    const byEndpoint = entry.routeFromEndpoint === true;
    // Named loads, not header(): a helper's one keyed load site sees every name and goes megamorphic.
    h.config = byEndpoint ? undefined : one(headers?.['x-portkey-config']);
    h.virtualKey = byEndpoint ? undefined : one(headers?.['x-portkey-virtual-key']);
    // Only consulted to tell whether the key's default config routed the request.
    h.provider = byEndpoint || h.config || h.virtualKey ? undefined : one(headers?.['x-portkey-provider']);
    // The pipeline hands over what it answered with: reading it back from a headers object cost ~0.4 µs a record.
    const answered = entry.cacheStatus !== undefined;
    h.optionIndex = answered ? entry.optionIndexSent : resHeaderOf(tap, res, 'x-portkey-last-used-option-index');
    const facts = this.routes.get(state, entry, h);

    const status = entry.status;
    const success = status >= 200 && status < 300;
    const retries = entry.retries;
    row.facts = facts;
    assignRecordId(row);
    row.createdAtMs = entry.startedAt;
    row.stream = entry.stream;
    row.status = status;
    row.success = success;
    row.cache_status = str(answered ? entry.cacheStatus : resHeaderOf(tap, res, 'x-portkey-cache-status'), 16) ?? 'DISABLED';
    row.retry_count = Math.max(0, retries);
    row.rescued_by = !success ? null : facts.fellBack ? 'fallback' : retries > 0 ? 'retry' : null;

    // Usage is read from the bytes as written; only an estimate (no usage reported) decodes text.
    const reported = success && tap ? usageFromResponse(tap.headBytes(), tap.tailBytes()) : undefined;
    const usage = reported
      ? resolveUsage(reported, unreachable)
      : resolveUsage(undefined, () => ({
          req: success ? estimateTokens(promptChars(entry.request)) : 0,
          res: success ? estimateTokens(completionChars(tap?.body()?.text ?? tap?.tail() ?? '')) : 0,
        }));
    row.req_units = usage.req;
    row.res_units = usage.res;
    row.total_units = usage.total;
    row.units_estimated = usage.estimated;
    row.cost = costCents(facts.price, usage.req, usage.res);

    const upstreamMs = entry.upstreamStartedAt ? Math.max(0, entry.startedAt + entry.durationMs - entry.upstreamStartedAt) : 0;
    const totalMs = Math.max(0, Math.round(entry.durationMs));
    const upstream = Math.min(totalMs, Math.round(upstreamMs));
    row.total_ms = totalMs;
    row.upstream_ms = upstream;
    row.gateway_ms = Math.max(0, totalMs - upstream);

    const metadata = metadataOf(headers, facts.metadataDefaults);
    row.metadata = metadata;
    row.user = str(metadata._user) ?? str((entry.request as Record<string, unknown> | undefined)?.user);
    row.client = headers ? cachedClientInfo(headers) : NO_CLIENT;
    row.trace_id = str(entry.traceId);
    row.span_id = str(one(headers?.['x-portkey-span-id']));
    row.parent_span_id = str(one(headers?.['x-portkey-parent-span-id']));
    row.span_name = str(one(headers?.['x-portkey-span-name']));
    if (this.logMode === 'off') {
      row.log_key = null;
      row.log_token = null;
    } else {
      const key = logKey(entry.organisationId, facts.workspace_id, new Date(entry.startedAt), rowId(row));
      row.log_key = key;
      row.log_token = this.logMode === 'customer' ? createHmac('sha256', this.fetchKey).update(key).digest('base64url') : null;
    }
  }
}
