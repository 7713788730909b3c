import type { ServerResponse } from 'node:http';

/**
 * Sees the bytes a response sends without holding the stream back: `res.write`/`res.end` are
 * wrapped on the instance and every chunk is passed on at once. It keeps the first bytes (usage of
 * Anthropic's message_start), the last bytes (the usage of OpenAI's final chunk or JSON body), and,
 * when full logs are on, the body up to a cap for the log.
 */
export interface ResponseTap {
  /** Total bytes written to the client. */
  bytes: number;
  head(): string;
  tail(): string;
  /** The captured body (only when `captureBytes` > 0); `truncated` when it went past the cap. */
  body(): { text: string; truncated: boolean } | undefined;
  firstByteAt?: number;
  /** Headers passed to `writeHead` (lower-cased names); `getHeader` does not see those. */
  headers: Record<string, string>;
}

const HEAD_BYTES = 4 * 1024;
const TAIL_BYTES = 16 * 1024;

type Chunk = string | Uint8Array;

function toBuffer(chunk: Chunk, encoding?: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

export function tapResponse(res: ServerResponse, captureBytes: number): ResponseTap {
  let headParts: Buffer[] = [];
  let headSize = 0;
  let tailParts: Buffer[] = [];
  let tailSize = 0;
  const captured: Buffer[] = [];
  let capturedSize = 0;
  let truncated = false;

  const see = (chunk: Chunk | undefined, encoding?: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const buf = toBuffer(chunk, encoding);
    if (!buf.length) return;
    tap.firstByteAt ??= Date.now();
    tap.bytes += buf.length;
    if (headSize < HEAD_BYTES) {
      headParts.push(buf);
      headSize += buf.length;
    }
    tailParts.push(buf);
    tailSize += buf.length;
    if (tailSize > TAIL_BYTES * 2) {
      const joined = Buffer.concat(tailParts).subarray(-TAIL_BYTES);
      tailParts = [joined];
      tailSize = joined.length;
    }
    if (captureBytes > 0 && !truncated) {
      if (capturedSize + buf.length > captureBytes) {
        captured.push(buf.subarray(0, captureBytes - capturedSize));
        capturedSize = captureBytes;
        truncated = true;
      } else {
        captured.push(buf);
        capturedSize += buf.length;
      }
    }
  };

  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const headers = args.find((a, i) => i > 0 && a && typeof a === 'object');
    if (headers && !Array.isArray(headers)) {
      for (const [k, v] of Object.entries(headers as Record<string, unknown>)) if (v !== undefined) tap.headers[k.toLowerCase()] = String(v);
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: Chunk, ...rest: unknown[]) {
    see(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) see(chunk, rest[0]);
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as ServerResponse['end'];

  const tap: ResponseTap = {
    bytes: 0,
    headers: {},
    head: () => {
      const text = Buffer.concat(headParts).toString('utf8');
      headParts = [Buffer.from(text)];
      return text;
    },
    tail: () => Buffer.concat(tailParts).subarray(-TAIL_BYTES).toString('utf8'),
    body: () => (captureBytes > 0 ? { text: Buffer.concat(captured, capturedSize).toString('utf8'), truncated } : undefined),
  };
  return tap;
}
