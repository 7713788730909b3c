import { isIP } from 'node:net';
import { HttpProblem } from '../../core/errors.js';

export interface CustomHostPolicy {
  devMode: boolean;
  /** Host names (`api.example.com`), `host:port`, or `*.example.com` wildcards. */
  allowlist: readonly string[];
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1' || host.startsWith('::ffff:127.');
}

/**
 * `custom_host` turns the gateway into a proxy to any URL a caller names, so outside dev mode it
 * is held to an operator allowlist (SSRF: metadata endpoints, internal services). Loopback is a
 * dev-only convenience and is refused outside dev mode even if listed.
 */
export function checkCustomHost(customHost: string, policy: CustomHostPolicy): URL {
  let url: URL;
  try {
    url = new URL(customHost);
  } catch {
    throw new HttpProblem(400, `custom_host "${customHost}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HttpProblem(400, `custom_host must be http(s), got "${url.protocol}"`);
  }
  if (policy.devMode) return url;
  if (isLoopback(url.hostname)) {
    throw new HttpProblem(400, `custom_host "${url.host}" is a loopback address, which is allowed only in dev mode`);
  }
  const host = url.hostname.toLowerCase();
  const allowed = policy.allowlist.some((entry) => {
    const rule = entry.toLowerCase();
    if (rule.startsWith('*.')) return host.endsWith(rule.slice(1));
    return rule === host || rule === url.host.toLowerCase();
  });
  if (!allowed) {
    throw new HttpProblem(400, `custom_host "${url.host}" is not on this gateway's allowlist (TOLLGATE_CUSTOM_HOST_ALLOWLIST)`);
  }
  return url;
}
