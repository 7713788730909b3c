import type { IncomingHttpHeaders } from 'node:http';

/**
 * Masking for stored logs. Three layers, each enough on its own for the usual cases:
 *  1. headers whose names look like credentials are replaced whole;
 *  2. JSON fields whose names look like credentials (also inside inline `x-portkey-config`) are replaced;
 *  3. every secret the gateway knows was in play (the caller's API key, the provider key, bearer
 *     tokens) is replaced wherever it appears in the serialised log, e.g. echoed in an upstream error.
 */
export const REDACTED = '[redacted]';

const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|x-portkey-api-key|x-goog-api-key)$|(api[-_]?key|token|secret|password|credential|signature|session)/i;
const SECRET_FIELD = /^(api[-_]?key|apikey|key|secret|password|token|access[-_]?token|refresh[-_]?token|authorization|aws_secret_access_key|aws_session_token|client_secret|private_key)$|(api[-_]?key|secret|password|credential)/i;

export function maskJson(value: unknown, depth = 0): unknown {
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskJson(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_FIELD.test(k) && v !== null && typeof v !== 'object' ? REDACTED : maskJson(v, depth + 1);
  }
  return out;
}

export function maskHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (SECRET_HEADER.test(name)) out[name] = REDACTED;
    else if (name === 'x-portkey-config' && value.trimStart().startsWith('{')) {
      try {
        out[name] = JSON.stringify(maskJson(JSON.parse(value)));
      } catch {
        out[name] = REDACTED;
      }
    } else out[name] = value;
  }
  return out;
}

/** The secret values to scrub from a log: header credentials (bearer tokens unwrapped) plus known extras. */
export function secretsOf(headers: IncomingHttpHeaders, extra: readonly (string | undefined)[] = []): string[] {
  const found = new Set<string>();
  const add = (v: string | undefined) => {
    const s = v?.trim();
    if (s && s.length >= 8) found.add(s);
  };
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined || !SECRET_HEADER.test(name)) continue;
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      add(v);
      const bearer = /^(?:Bearer|Basic|Token)\s+(.+)$/i.exec(v)?.[1];
      add(bearer);
    }
  }
  extra.forEach(add);
  // Longest first, so a secret that contains another is replaced whole.
  return [...found].sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence of each secret (and of its JSON-escaped form) in `text`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
  }
  return out;
}
