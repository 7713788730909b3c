import { createHmac } from 'node:crypto';
import type { MetricRecord } from '../../core/metrics.js';
import { guardrailLogFields } from '../guardrails/telemetry.js';
import { maskHeaders, maskJson, scrubSecrets, secretsOf } from './mask.js';
import type { ResponseTap } from './response-tap.js';
import type { RequestLogEntry } from './types.js';

/** A key derived from the data-plane token: the control plane stores the token only hashed, so it cannot mint log tokens itself. */
export function logFetchKey(dataPlaneToken: string): Buffer {
  return createHmac('sha256', dataPlaneToken).update('tollgate-log-fetch-v1').digest();
}

export function logFetchToken(dataPlaneToken: string, key: string): string {
  return createHmac('sha256', logFetchKey(dataPlaneToken)).update(key).digest('base64url');
}

const LOGGED_RESPONSE_HEADERS = ['content-type', 'x-portkey-trace-id', 'x-portkey-provider', 'x-portkey-retry-attempt-count', 'x-portkey-cache-status', 'x-portkey-last-used-option-index'];

/**
 * The full log of one request as stored text: masked headers and bodies, then every known secret
 * scrubbed from the serialised text. Only built when logs are on.
 */
export function buildFullLog(
  entry: RequestLogEntry,
  tap: ResponseTap | undefined,
  record: MetricRecord,
  resHeader: (name: string) => string | undefined,
  captureBytes: number,
): string {
  const headers = entry.headers;
  const captured = tap?.body();
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
  for (const name of LOGGED_RESPONSE_HEADERS) {
    const v = resHeader(name);
    if (v !== undefined) responseHeaders[name] = v;
  }
  const { log_token: _omit, ...index } = record;
  void _omit;
  const log = {
    id: record.id,
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
      response_time: record.total_ms,
      ...guardrailLogFields(entry.res),
    },
    metrics: index,
  };
  return scrubSecrets(JSON.stringify(log), headers ? secretsOf(headers, entry.secrets ?? []) : [...(entry.secrets ?? [])]);
}
