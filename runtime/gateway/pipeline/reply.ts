import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { createParser } from 'eventsource-parser';
import { openAIError } from '../../core/errors.js';
import { sendJson } from '../http/respond.js';
import { EventStreamDecoder } from '../providers/aws-eventstream.js';
import type { EndpointSpec, Provider, TransformContext } from '../providers/index.js';
import type { UpstreamResult } from './upstream.js';
import { BufferedBody } from './upstream-body.js';
import { UPSTREAM_RESPONSE_DROP } from './forward-headers.js';

type UpstreamResponse = Extract<UpstreamResult, { kind: 'response' }>;

export interface ReplyContext {
  provider: Provider;
  spec: EndpointSpec;
  transform: TransformContext;
  /** x-portkey-* response headers. */
  headers: OutgoingHttpHeaders;
  /** Bounds the silence between two stream chunks (request_timeout); a stream that goes quiet longer fails. */
  idleTimeoutMs?: number;
  /** A pass-through chat stream that may lack usage: count tokens and add the usage chunk if the provider sent none. */
  ensureUsage?: boolean;
  /** Receives the complete answer as sent (for the response cache); only called for a clean 2xx. */
  capture?: (contentType: string, body: string) => void;
}

export interface ReplyOutcome {
  /** The status the client saw; a stream that broke after its 200 counts as 502 (or 408 when it went idle). */
  status: number;
}

const MAX_ERROR_BODY = 64 * 1024;
/** Non-streaming answers up to this size are relayed in one write. */
const SMALL_BODY_BYTES = 256 * 1024;
/** Answers larger than this are not cached. */
const MAX_CAPTURE_BYTES = 1024 * 1024;

function copyHeaders(upstream: UpstreamResponse['headers'], extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) if (!UPSTREAM_RESPONSE_DROP.has(name)) out[name] = upstream[name];
  for (const name in extra) out[name] = extra[name];
  return out;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** The SSE line a client gets when a stream breaks: an error event, and never a clean `[DONE]`. */
export function sseError(message: string, type = 'api_error', code: string | null = null): string {
  return `data: ${JSON.stringify(openAIError(message, type, code))}\n\n`;
}

class IdleTimeout extends Error {}

/** The error event for a broken stream, in the caller's format (OpenAI's, or Anthropic's on /v1/messages). */
function streamError(ctx: ReplyContext, timedOut: boolean): string {
  const message = timedOut ? `the upstream sent nothing for ${ctx.idleTimeoutMs} ms` : 'the upstream stream failed before it finished';
  const type = timedOut ? 'timeout_error' : 'api_error';
  if (ctx.spec.shapeError) return `event: error\ndata: ${JSON.stringify(ctx.spec.shapeError(openAIError(message, type), 502))}\n\n`;
  return sseError(message, type);
}

/** Relays an upstream answer: piped untouched when the provider speaks OpenAI, transformed when not. */
export async function reply(res: ServerResponse, result: UpstreamResult, ctx: ReplyContext): Promise<ReplyOutcome> {
  if (result.kind === 'unreachable') {
    const body = result.status === 408 ? openAIError(result.message, 'timeout_error', null) : openAIError(result.message, 'api_error', 'upstream_unreachable');
    sendJson(res, result.status, ctx.spec.shapeError ? ctx.spec.shapeError(body, result.status) : body, ctx.headers);
    return { status: result.status };
  }
  if (result.kind === 'rejected') {
    const body = result.param
      ? openAIError(result.message, 'invalid_request_error', 'unsupported_parameter', result.param)
      : openAIError(result.message, result.status === 401 ? 'authentication_error' : 'invalid_request_error', null);
    sendJson(res, result.status, ctx.spec.shapeError ? ctx.spec.shapeError(body, result.status) : body, ctx.headers);
    return { status: result.status };
  }
  if (result.kind === 'cached') {
    const body = Buffer.from(result.body);
    res.writeHead(result.status, { ...ctx.headers, 'content-type': result.contentType, 'content-length': body.length });
    res.end(body);
    return { status: result.status };
  }
  if (result.status < 200 || result.status >= 300) {
    await replyError(res, result, ctx);
    return { status: result.status };
  }

  const contentType = String(result.headers['content-type'] ?? '');
  const isSse = contentType.includes('text/event-stream');
  const isAwsStream = contentType.includes('application/vnd.amazon.eventstream');
  if ((isSse || isAwsStream) && ctx.spec.createStreamTransformer) return replyTransformedStream(res, result, ctx, isAwsStream);
  if (!isSse && ctx.spec.transformResponse) {
    const body = await result.body.json();
    const payload = JSON.stringify(ctx.spec.transformResponse(body, ctx.transform));
    res.writeHead(result.status, { ...ctx.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
    ctx.capture?.('application/json', payload);
    return { status: result.status };
  }
  const length = Number(result.headers['content-length']);
  if (!isSse && length >= 0 && length <= SMALL_BODY_BYTES) {
    // A small JSON answer of known length goes out as headers + body in one write: piping it would
    // cost a socket write per chunk plus one for the end, for no gain in latency.
    const bodyBytes = result.body instanceof BufferedBody ? result.body.buffer : Buffer.from(await result.body.arrayBuffer());
    res.writeHead(result.status, copyHeaders(result.headers, ctx.headers));
    res.end(bodyBytes);
    if (ctx.capture && contentType.includes('json')) ctx.capture(contentType, bodyBytes.toString('utf8'));
    return { status: result.status };
  }
  res.writeHead(result.status, copyHeaders(result.headers, ctx.headers));
  return relay(res, result, ctx, isSse, contentType);
}

/** Waits for the client to take more, or to leave. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Arms the idle timeout: the upstream body is destroyed when no chunk arrives in time. */
function idleGuard(result: UpstreamResponse, ms: number | undefined): { touch(): void; clear(): void } {
  if (!ms) return { touch() {}, clear() {} };
  const timer = setTimeout(() => result.body.destroy(new IdleTimeout()), ms);
  return { touch: () => timer.refresh(), clear: () => clearTimeout(timer) };
}

const DONE_LINE = 'data: [DONE]';
const USAGE_MARK = Buffer.from('"usage":{');
/**
 * How a piped stream reports a failure after its 200: OpenAI chat as a data line holding an `error`
 * object; Anthropic's Messages and OpenAI's Responses streams as an `error` event.
 */
const ERROR_MARK = Buffer.from('data: {"error"');
const ERROR_EVENT_MARK = Buffer.from('event: error\n');

/**
 * Streams (SSE) and large bodies, chunk by chunk as they arrive, never buffered. An upstream that
 * breaks or goes idle mid-stream gets the client an SSE error event and no `[DONE]`; a chat stream
 * whose provider sent no usage gets one counted with gpt-tokenizer before `[DONE]`.
 */
async function relay(res: ServerResponse, result: UpstreamResponse, ctx: ReplyContext, isSse: boolean, contentType: string): Promise<ReplyOutcome> {
  const abort = () => result.body.destroy();
  res.once('close', abort);
  const idle = idleGuard(result, isSse ? ctx.idleTimeoutMs : undefined);
  const watchUsage = isSse && ctx.ensureUsage;
  let sawUsage = false;
  // Raw pieces are kept (not decoded) in case usage must be counted or the answer cached.
  const keep = watchUsage || !!ctx.capture;
  const pieces: Buffer[] = [];
  let kept = 0;
  let heldDone = false;
  let upstreamError = false;
  try {
    for await (const raw of result.body) {
      idle.touch();
      let chunk = raw as Buffer;
      if (isSse && !upstreamError && (chunk.includes(ERROR_MARK) || chunk.includes(ERROR_EVENT_MARK))) upstreamError = true;
      if (watchUsage) {
        if (!sawUsage && chunk.includes(USAGE_MARK)) sawUsage = true;
        const done = chunk.indexOf(DONE_LINE);
        if (done !== -1) {
          // Hold [DONE] back until we know whether a usage chunk must go before it.
          heldDone = true;
          chunk = chunk.subarray(0, done);
        }
      }
      if (keep && kept < MAX_CAPTURE_BYTES) {
        pieces.push(chunk);
        kept += chunk.length;
      }
      if (chunk.length && !res.write(chunk)) await drained(res);
      if (res.destroyed) return { status: 499 };
    }
    idle.clear();
    if (upstreamError) {
      // The stream failed in-band: no counted usage after the error, not cached, recorded as failed.
      res.end();
      return { status: 502 };
    }
    const text = keep && kept < MAX_CAPTURE_BYTES && (ctx.capture || !sawUsage) ? Buffer.concat(pieces, kept).toString('utf8') : undefined;
    let tail = '';
    if (watchUsage) {
      if (!sawUsage && text !== undefined) tail += await usageChunk(text, ctx.transform);
      if (heldDone) tail += `${DONE_LINE}\n\n`;
    }
    res.end(tail || undefined);
    if (ctx.capture && text !== undefined) ctx.capture(contentType, text + tail);
    return { status: result.status };
  } catch (err) {
    idle.clear();
    if (res.destroyed || !isSse) {
      res.destroy();
      return { status: res.destroyed && !(err instanceof IdleTimeout) ? 499 : 502 };
    }
    const timedOut = err instanceof IdleTimeout;
    res.end(streamError(ctx, timedOut));
    return { status: timedOut ? 408 : 502 };
  } finally {
    res.off('close', abort);
  }
}

/** gpt-tokenizer holds ~60 MB of BPE ranks: loaded on the first stream that needs counting, not at start. */
let tokenizer: Promise<typeof import('gpt-tokenizer')> | undefined;

/** Usage for a stream whose provider sent none: completion counted from the deltas, prompt from the request. */
async function usageChunk(sse: string, transform: TransformContext): Promise<string> {
  const { countTokens } = await (tokenizer ??= import('gpt-tokenizer'));
  let completion = '';
  let id = '';
  let model = transform.model;
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: {')) continue;
    try {
      const chunk = JSON.parse(line.slice(6));
      id ||= chunk.id ?? '';
      model = chunk.model ?? model;
      for (const choice of chunk.choices ?? []) completion += choice.delta?.content ?? choice.text ?? '';
    } catch {
      /* a partial line: skip */
    }
  }
  const completionTokens = countTokens(completion);
  const promptTokens = transform.promptText ? countTokens(transform.promptText()) : 0;
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  return `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [], usage })}\n\n`;
}

/** Upstream errors keep their status and come back in OpenAI's shape, whatever the provider spoke. */
async function replyError(res: ServerResponse, result: UpstreamResponse, ctx: ReplyContext): Promise<void> {
  let text = '';
  for await (const chunk of result.body) {
    if (text.length < MAX_ERROR_BODY) text += chunk.toString();
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const mapped = ctx.provider.transformError?.(result.status, json);
  const body = mapped
    ? openAIError(mapped.message, mapped.type, mapped.code)
    : (json as { error?: unknown } | undefined)?.error && typeof (json as { error: unknown }).error === 'object'
      ? json
      : openAIError(text.slice(0, 500) || `the upstream answered ${result.status}`, 'upstream_error', String(result.status));
  const headers: OutgoingHttpHeaders = { ...ctx.headers };
  for (const name of ['retry-after', 'retry-after-ms', 'x-ms-retry-after-ms']) if (result.headers[name] !== undefined) headers[name] = result.headers[name];
  sendJson(res, result.status, ctx.spec.shapeError ? ctx.spec.shapeError(body, result.status) : body, headers);
}

/** Parses the provider's stream event by event and writes each translated chunk at once: nothing is buffered. */
async function replyTransformedStream(res: ServerResponse, result: UpstreamResponse, ctx: ReplyContext, aws: boolean): Promise<ReplyOutcome> {
  res.writeHead(200, { ...ctx.headers, ...SSE_HEADERS });
  const transformer = ctx.spec.createStreamTransformer!(ctx.transform);
  let captured = ctx.capture ? '' : undefined;
  let failed = false;
  const write = (lines: string[]) => {
    for (const line of lines) {
      if (line.startsWith('data: {"error"') || line.startsWith('event: error')) failed = true;
      res.write(line);
      if (captured !== undefined && captured.length < MAX_CAPTURE_BYTES) captured += line;
    }
  };
  const onEvent = (event: { event?: string; data: string }) => write(transformer.onEvent(event));
  const feed: (chunk: Buffer) => void = aws
    ? ((decoder) => (chunk: Buffer) => decoder.feed(chunk))(new EventStreamDecoder(onEvent))
    : ((parser, decoder) => (chunk: Buffer) => parser.feed(decoder.decode(chunk, { stream: true })))(createParser({ onEvent }), new TextDecoder());
  const abort = () => result.body.destroy();
  res.once('close', abort);
  const idle = idleGuard(result, ctx.idleTimeoutMs);
  try {
    for await (const chunk of result.body) {
      idle.touch();
      feed(chunk as Buffer);
      if (res.writableNeedDrain) await drained(res);
      if (res.destroyed) return { status: 499 };
    }
    idle.clear();
    write(transformer.onEnd());
    res.end();
    if (!failed && captured !== undefined && captured.length < MAX_CAPTURE_BYTES) ctx.capture!(SSE_HEADERS['content-type'], captured);
    return { status: failed ? 502 : 200 };
  } catch (err) {
    idle.clear();
    if (res.destroyed) return { status: 499 };
    const timedOut = err instanceof IdleTimeout;
    if (!failed) res.write(streamError(ctx, timedOut));
    res.end();
    return { status: timedOut ? 408 : 502 };
  } finally {
    res.off('close', abort);
  }
}
