import type { IncomingHttpHeaders } from 'node:http';

/**
 * Headers that must never reach a provider: Portkey's own (they carry the gateway API key and
 * routing), caller credentials (the provider key is set from the resolved target instead),
 * hop-by-hop headers, and ones the gateway recomputes.
 */
const NEVER_FORWARDED = new Set([
  'authorization',
  'x-api-key',
  'api-key',
  'cookie',
  'host',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-type',
  'accept-encoding',
  'expect',
]);

/** The caller's headers worth passing on (user-agent, SDK telemetry, openai-beta ...). */
export function forwardableHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in incoming) {
    if (name.startsWith('x-portkey-') || NEVER_FORWARDED.has(name)) continue;
    const value = incoming[name];
    if (typeof value === 'string') out[name] = value;
    else if (Array.isArray(value)) out[name] = value.join(', ');
  }
  return out;
}

/** Upstream response headers that describe the connection rather than the body, or that we rewrite. */
export const UPSTREAM_RESPONSE_DROP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'server', 'proxy-authenticate', 'trailer', 'upgrade']);
