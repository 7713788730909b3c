import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { CancelSignal } from './cancel.js';

/**
 * One keep-alive undici Pool per upstream origin, created on first use and reused by every
 * request: connection setup (and TLS) is paid once, not per call.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  private readonly urls = new Map<string, { origin: string; pathPrefix: string }>();

  /** Splits `https://host/v1` once per base URL; the hot path then only concatenates strings. */
  resolve(baseUrl: string): { pool: Pool; pathPrefix: string } {
    let parsed = this.urls.get(baseUrl);
    if (!parsed) {
      const url = new URL(baseUrl);
      parsed = { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') };
      this.urls.set(baseUrl, parsed);
    }
    let pool = this.pools.get(parsed.origin);
    if (!pool) {
      pool = new Pool(parsed.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
      this.pools.set(parsed.origin, pool);
    }
    return { pool, pathPrefix: parsed.pathPrefix };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close().catch(() => pool.destroy())));
    this.pools.clear();
  }
}

export interface UpstreamCall {
  baseUrl: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Bounds the wait for response headers (the first byte); a started stream is never cut by it. */
  timeoutMs?: number;
  /** Fired when the caller goes away; aborts the upstream call. */
  signal?: CancelSignal;
}

export type UpstreamResult =
  | { kind: 'response'; status: number; headers: Dispatcher.ResponseData['headers']; body: Dispatcher.ResponseData['body'] }
  /** The gateway could not get an answer: 502 (connect/socket) or 408 (request_timeout, Portkey's status). */
  | { kind: 'unreachable'; status: 502 | 408; message: string }
  /** Refused before any call (a field the provider does not support in strict mode, missing credentials): 4xx. */
  | { kind: 'rejected'; status: number; message: string; param?: string }
  /** Served from the response cache. */
  | { kind: 'cached'; status: number; contentType: string; body: string };

/** Portkey's message for a request_timeout. */
export function timeoutMessage(ms: number | undefined): string {
  return `Request exceeded the timeout sent in the request: ${ms ?? 'the allowed'}ms`;
}

export async function callUpstream(pools: UpstreamPools, call: UpstreamCall): Promise<UpstreamResult> {
  const { pool, pathPrefix } = pools.resolve(call.baseUrl);
  // Our own timer rather than undici's headersTimeout, whose coarse timers do not honour short values.
  // A timed call gets its own signal (a fallback after a timeout must not inherit an aborted one),
  // linked to the caller's so a disconnect still cancels it.
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  let signal = call.signal;
  let unlink: (() => void) | undefined;
  if (call.timeoutMs) {
    const own = new CancelSignal();
    if (call.signal) {
      const forward = () => own.abort(call.signal!.reason);
      call.signal.once('abort', forward);
      unlink = () => call.signal!.off('abort', forward);
    }
    timer = setTimeout(() => {
      timedOut = true;
      own.abort('timeout');
    }, call.timeoutMs);
    signal = own;
  }
  try {
    const res = await pool.request({
      method: call.method as Dispatcher.HttpMethod,
      path: pathPrefix + call.path,
      headers: call.headers,
      body: call.body,
      // Streams may pause for long between tokens; the idle timeout is enforced by the reply loop.
      bodyTimeout: 0,
      signal: signal as unknown as Dispatcher.RequestOptions['signal'],
    });
    return { kind: 'response', status: res.statusCode, headers: res.headers, body: res.body };
  } catch (err) {
    if (timedOut || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
      return { kind: 'unreachable', status: 408, message: timeoutMessage(call.timeoutMs) };
    }
    if (call.signal?.aborted) throw err;
    const code = (err as { code?: string }).code;
    // Only the error code and origin: never headers or body, which carry the provider key.
    return { kind: 'unreachable', status: 502, message: `could not reach the upstream ${new URL(call.baseUrl).host}${code ? ` (${code})` : ''}` };
  } finally {
    clearTimeout(timer);
    unlink?.();
  }
}
