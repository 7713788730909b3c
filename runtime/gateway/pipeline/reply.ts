import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createParser } from 'eventsource-parser';
import { openAIError } from '../../core/errors.js';
import { sendJson } from '../http/respond.js';
import type { EndpointSpec, Provider, TransformContext } from '../providers/index.js';
import type { UpstreamResult } from './upstream.js';
import { UPSTREAM_RESPONSE_DROP } from './forward-headers.js';

type UpstreamResponse = Extract<UpstreamResult, { kind: 'response' }>;

export interface ReplyContext {
  provider: Provider;
  spec: EndpointSpec;
  transform: TransformContext;
  /** x-portkey-* response headers. */
  headers: OutgoingHttpHeaders;
}

const MAX_ERROR_BODY = 64 * 1024;
/** Non-streaming answers up to this size are relayed in one write. */
const SMALL_BODY_BYTES = 256 * 1024;

function copyHeaders(upstream: UpstreamResponse['headers'], extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) if (!UPSTREAM_RESPONSE_DROP.has(name)) out[name] = upstream[name];
  return Object.assign(out, extra);
}

/** Relays an upstream answer: piped untouched when the provider speaks OpenAI, transformed when not. */
export async function reply(res: ServerResponse, result: UpstreamResult, ctx: ReplyContext): Promise<void> {
  if (result.kind === 'unreachable') {
    const code = result.status === 504 ? 'upstream_timeout' : 'upstream_unreachable';
    return sendJson(res, result.status, openAIError(result.message, 'api_error', code), ctx.headers);
  }
  if (result.status < 200 || result.status >= 300) return replyError(res, result, ctx);

  const isSse = String(result.headers['content-type'] ?? '').includes('text/event-stream');
  if (isSse && ctx.spec.createStreamTransformer) return replyTransformedStream(res, result, ctx);
  if (!isSse && ctx.spec.transformResponse) {
    const body = await result.body.json();
    return sendJson(res, result.status, ctx.spec.transformResponse(body, ctx.transform), ctx.headers);
  }
  const length = Number(result.headers['content-length']);
  if (!isSse && length >= 0 && length <= SMALL_BODY_BYTES) {
    // A small JSON answer of known length goes out as headers + body in one write: piping it would
    // cost a socket write per chunk plus one for the end, for no gain in latency.
    const bodyBytes = Buffer.from(await result.body.arrayBuffer());
    res.writeHead(result.status, copyHeaders(result.headers, ctx.headers));
    res.end(bodyBytes);
    return;
  }
  res.writeHead(result.status, copyHeaders(result.headers, ctx.headers));
  // Streams (SSE) and large bodies are piped as they arrive, never buffered. pipeline() destroys the
  // upstream body when the client goes away, which aborts the upstream call.
  await pipeline(result.body, res).catch(() => res.destroy());
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
  sendJson(res, result.status, body, ctx.headers);
}

/** Waits for the client to take more, or to leave (then the loop ends on the destroyed upstream body). */
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

/** Parses the provider's SSE event by event and writes each translated chunk at once: nothing is buffered. */
async function replyTransformedStream(res: ServerResponse, result: UpstreamResponse, ctx: ReplyContext): Promise<void> {
  res.writeHead(200, { ...ctx.headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const transformer = ctx.spec.createStreamTransformer!(ctx.transform);
  const write = (lines: string[]) => {
    for (const line of lines) res.write(line);
  };
  const parser = createParser({ onEvent: (event) => write(transformer.onEvent(event)) });
  const decoder = new TextDecoder();
  const abort = () => result.body.destroy();
  res.once('close', abort);
  try {
    for await (const chunk of result.body) {
      parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
      if (res.writableNeedDrain) await drained(res);
    }
    write(transformer.onEnd());
    res.end();
  } catch {
    res.destroy();
  } finally {
    res.off('close', abort);
  }
}
