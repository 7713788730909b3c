import type { IncomingHttpHeaders } from 'node:http';

export interface ClientInfo {
  runtime: string | null;
  runtimeVersion: string | null;
  sdk: string | null;
  sdkVersion: string | null;
}

const h = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  const s = (Array.isArray(v) ? v[0] : v)?.trim();
  return s ? s.slice(0, 64) : undefined;
};

/**
 * The caller's SDK and runtime, from what SDKs send anyway: the Stainless headers of the openai and
 * anthropic SDKs (`x-stainless-lang`, `-package-version`, `-runtime`, `-runtime-version`), the
 * portkey-ai SDK's `x-portkey-runtime`/`-runtime-version`/`-package-version`, else the user-agent's first product.
 */
export function clientInfo(headers: IncomingHttpHeaders): ClientInfo {
  const ua = h(headers, 'user-agent');
  const product = ua ? /^([^\s/]+(?:\/[A-Za-z]+)?)[/ ]v?([\w.+-]+)/.exec(ua) : null;
  const portkey = h(headers, 'x-portkey-package-version');
  const stainlessLang = h(headers, 'x-stainless-lang');
  let sdk: string | null = null;
  let sdkVersion: string | null = null;
  if (portkey) {
    const m = /^([a-z-]+)-(\d[\w.+-]*)$/i.exec(portkey);
    sdk = m ? `${m[1]}${stainlessLang ? `/${stainlessLang}` : ''}` : 'portkey';
    sdkVersion = m ? m[2] : portkey;
  } else if (product) {
    sdk = product[1].toLowerCase();
    sdkVersion = product[2];
  }
  if (stainlessLang && !sdk) sdk = stainlessLang;
  if (!sdkVersion) sdkVersion = h(headers, 'x-stainless-package-version') ?? null;
  return {
    runtime: h(headers, 'x-stainless-runtime') ?? h(headers, 'x-portkey-runtime') ?? null,
    runtimeVersion: h(headers, 'x-stainless-runtime-version') ?? h(headers, 'x-portkey-runtime-version') ?? null,
    sdk,
    sdkVersion,
  };
}

// In the order of cachedClientInfo's unrolled check (lastValues[i] is CLIENT_HEADERS[i]'s value).
const CLIENT_HEADERS = [
  'user-agent', 'x-portkey-package-version', 'x-stainless-lang', 'x-stainless-package-version',
  'x-stainless-runtime', 'x-portkey-runtime', 'x-stainless-runtime-version', 'x-portkey-runtime-version',
];
const clientCache = new Map<string, ClientInfo>();
const lastValues: unknown[] = [];
let lastInfo: ClientInfo | undefined;

/**
 * `clientInfo`, once per distinct combination of the headers it reads: an SDK sends the same ones
 * on every request, and the user-agent regex was a visible part of building each metric record.
 * Results are shared and never mutated; the map is bounded.
 */
export function cachedClientInfo(headers: IncomingHttpHeaders): ClientInfo {
  // The previous caller first: the same SDK sends the same headers, and comparing them allocates
  // nothing. Named loads: a loop's one keyed load site sees every name and goes megamorphic.
  if (
    lastInfo !== undefined &&
    headers['user-agent'] === lastValues[0] &&
    headers['x-portkey-package-version'] === lastValues[1] &&
    headers['x-stainless-lang'] === lastValues[2] &&
    headers['x-stainless-package-version'] === lastValues[3] &&
    headers['x-stainless-runtime'] === lastValues[4] &&
    headers['x-portkey-runtime'] === lastValues[5] &&
    headers['x-stainless-runtime-version'] === lastValues[6] &&
    headers['x-portkey-runtime-version'] === lastValues[7]
  ) {
    return lastInfo;
  }
  let key = '';
  for (let i = 0; i < CLIENT_HEADERS.length; i++) {
    const v = headers[CLIENT_HEADERS[i]];
    lastValues[i] = v;
    key += `${v === undefined ? '' : String(v)}\n`;
  }
  let info = clientCache.get(key);
  if (!info) {
    info = clientInfo(headers);
    if (key.length <= 2048) {
      if (clientCache.size >= 1000) clientCache.delete(clientCache.keys().next().value!);
      clientCache.set(key, info);
    }
  }
  lastInfo = info;
  return info;
}
