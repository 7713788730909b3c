import type { IncomingHttpHeaders } from 'node:http';
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import type { CancelSignal, CancelTarget } from './cancel.js';
import { BufferedBody, StreamBody, type UpstreamBody } from './upstream-body.js';

/**
 * One keep-alive undici Pool per upstream origin, created on first use and reused by every
 * request: connection setup (and TLS) is paid once, not per call.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  private readonly urls = new Map<string, { pool: Pool; pathPrefix: string }>();

  /** Splits `https://host/v1` once per base URL; the hot path then only concatenates strings. */
  resolve(baseUrl: string): { pool: Pool; pathPrefix: string } {
    let resolved = this.urls.get(baseUrl);
    if (!resolved) {
      const url = new URL(baseUrl);
      let pool = this.pools.get(url.origin);
      if (!pool) {
        pool = new Pool(url.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
        this.pools.set(url.origin, pool);
      }
      resolved = { pool, pathPrefix: url.pathname.replace(/\/+$/, '') };
      this.urls.set(baseUrl, resolved);
    }
    return resolved;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close().catch(() => pool.destroy())));
    this.pools.clear();
    this.urls.clear();
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

export type { UpstreamBody } from './upstream-body.js';

export type UpstreamResult =
  | { kind: 'response'; status: number; headers: IncomingHttpHeaders; body: UpstreamBody }
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

/** Answers up to this size with a content-length (and not a stream) are read whole before they are handed on. */
const BUFFERED_MAX_BYTES = 256 * 1024;

class CallTimeout extends Error {}

function isStreamType(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && (contentType.includes('event-stream') || contentType.includes('eventstream'));
}

/** Header names as servers commonly spell them, already lower-cased: no toLowerCase copy for these. */
const KNOWN_NAMES = new Map<string, string>();
for (const name of ['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'server', 'cache-control', 'x-request-id', 'openai-processing-ms', 'retry-after']) {
  KNOWN_NAMES.set(name, name);
  KNOWN_NAMES.set(name.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase()), name);
}

/** undici's raw header list as the object node:http uses (lower-case names, repeated ones as arrays). */
function headerObject(raw: Buffer[]): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const rawName = raw[i].toString('latin1');
    const name = KNOWN_NAMES.get(rawName) ?? rawName.toLowerCase();
    if (name === '__proto__') continue;
    const value = raw[i + 1].toString('latin1');
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (typeof prev === 'string') out[name] = [prev, value];
    else prev.push(value);
  }
  return out;
}

/**
 * One upstream request through undici's dispatcher interface. A small sized answer is collected
 * into one buffer and handed on complete; anything else (SSE, large or unsized) as a stream as
 * soon as its headers arrive. Compared with `pool.request`, no Readable, AsyncResource or
 * abort-listener is created per small answer.
 */
class UpstreamRequest implements Dispatcher.DispatchHandler, CancelTarget {
  private abortFn: ((err: Error) => void) | undefined = undefined;
  private failure: Error | undefined = undefined;
  private settled = false;
  private status = 0;
  private headers: IncomingHttpHeaders | undefined = undefined;
  private parts: Buffer[] | undefined = undefined;
  private size = 0;
  private stream: StreamBody | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private timedOut = false;

  constructor(
    private readonly call: UpstreamCall,
    private readonly resolve: (result: UpstreamResult) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    // Our own timer rather than undici's headersTimeout, whose coarse timers do not honour short values.
    if (call.timeoutMs) this.timer = setTimeout(onCallTimeout, call.timeoutMs, this);
    call.signal?.add(this);
  }

  timeout(): void {
    this.timedOut = true;
    this.stop(new CallTimeout());
  }

  /** The caller left. */
  cancel(): void {
    this.stop(new undiciErrors.RequestAbortedError());
  }

  private stop(err: Error): void {
    if (this.stream) return void this.stream.destroy(err);
    if (this.abortFn) this.abortFn(err);
    else this.failure = err; // not yet on a connection: abort it when it gets one
    this.fail(err);
  }

  /** Timer and caller listener are only needed until the answer starts. */
  private release(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.call.signal?.remove(this);
  }

  private settle(result: UpstreamResult): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    this.resolve(result);
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.release();
    const call = this.call;
    if (this.timedOut || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
      return this.resolve({ kind: 'unreachable', status: 408, message: timeoutMessage(call.timeoutMs) });
    }
    if (call.signal?.aborted) return this.reject(err);
    const code = (err as { code?: string }).code;
    // Only the error code and origin: never headers or body, which carry the provider key.
    this.resolve({ kind: 'unreachable', status: 502, message: `could not reach the upstream ${new URL(call.baseUrl).host}${code ? ` (${code})` : ''}` });
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.failure) return abort(this.failure);
    this.abortFn = abort as (err: Error) => void;
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (status < 200) return true; // 1xx: the real answer follows
    const headers = headerObject(rawHeaders);
    this.status = status;
    this.headers = headers;
    const length = Number(headers['content-length']);
    if (length >= 0 && length <= BUFFERED_MAX_BYTES && !isStreamType(headers['content-type'])) {
      // The first byte came: request_timeout no longer applies (a caller leaving still aborts).
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.parts = [];
      return true;
    }
    this.stream = new StreamBody(resume, this.abortFn!);
    this.settle({ kind: 'response', status, headers, body: this.stream });
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.parts) {
      this.parts.push(chunk);
      this.size += chunk.length;
      return true;
    }
    return this.stream!.push(chunk);
  }

  onComplete(): void {
    if (this.stream) return this.stream.finish();
    const parts = this.parts!;
    const body = parts.length === 1 ? parts[0] : Buffer.concat(parts, this.size);
    this.parts = undefined;
    this.settle({ kind: 'response', status: this.status, headers: this.headers!, body: new BufferedBody(body) });
  }

  onError(err: Error): void {
    if (this.stream) {
      this.stream.destroy(err);
      return;
    }
    this.parts = undefined;
    this.fail(err);
  }
}

function onCallTimeout(request: UpstreamRequest): void {
  request.timeout();
}

export function callUpstream(pools: UpstreamPools, call: UpstreamCall): Promise<UpstreamResult> {
  const { pool, pathPrefix } = pools.resolve(call.baseUrl);
  return new Promise<UpstreamResult>((resolve, reject) => {
    const handler = new UpstreamRequest(call, resolve, reject);
    if (call.signal?.aborted) return handler.onError(new undiciErrors.RequestAbortedError());
    pool.dispatch(
      {
        method: call.method as Dispatcher.HttpMethod,
        path: pathPrefix + call.path,
        headers: call.headers,
        body: call.body,
        // Streams may pause for long between tokens; the idle timeout is enforced by the reply loop.
        bodyTimeout: 0,
      },
      handler,
    );
  });
}
