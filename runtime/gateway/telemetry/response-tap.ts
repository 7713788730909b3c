import { ServerResponse, type IncomingMessage } from 'node:http';

/**
 * Sees the bytes a response sends without holding the stream back. It keeps the first bytes (usage
 * of Anthropic's message_start), the last bytes (the usage of OpenAI's final chunk or JSON body),
 * and, when full logs are on, the body up to a cap for the log.
 *
 * The gateway's server creates its responses as `TappedResponse` (`createServer({ ServerResponse })`),
 * whose writeHead/write/end feed the taps attached to it: attaching a tap is one field write, and
 * every response keeps the same shape. Any other ServerResponse is tapped by wrapping its
 * writeHead/write/end on the instance, as before.
 */
export interface ResponseTap {
  /** Total bytes written to the client. */
  bytes: number;
  head(): string;
  tail(): string;
  /** The same as bytes, without decoding: a single written chunk comes back as it was written. */
  headBytes(): Buffer;
  tailBytes(): Buffer;
  /** The captured body (only when `captureBytes` > 0); `truncated` when it went past the cap. */
  body(): { text: string; truncated: boolean } | undefined;
  firstByteAt?: number;
  /** Headers passed to `writeHead` (lower-cased names, string values); `getHeader` does not see those. */
  readonly headers: Record<string, string>;
  /** One header passed to `writeHead` (`name` lower-case), without normalising the others. */
  header(name: string): string | undefined;
}

const HEAD_BYTES = 4 * 1024;
const TAIL_BYTES = 16 * 1024;

type Chunk = string | Uint8Array;

function toBuffer(chunk: Chunk, encoding?: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

const EMPTY = Buffer.alloc(0);
const join = (parts: Buffer[], size?: number): Buffer => (parts.length === 1 ? parts[0] : Buffer.concat(parts, size));

/**
 * One tap's state. Headers are kept as the objects writeHead got and normalised only when read.
 * The part lists are made on the first chunk, as one-element literals: most responses are one
 * write, and empty arrays grown by push cost a 17-slot backing store each, per request.
 */
class Tap implements ResponseTap {
  bytes = 0;
  firstByteAt?: number = undefined;
  private headParts: Buffer[] | undefined = undefined;
  private headSize = 0;
  private headText: string | undefined = undefined;
  private headBuf: Buffer | undefined = undefined;
  private tailParts: Buffer[] | undefined = undefined;
  private tailSize = 0;
  private trimmed = false;
  private captured: Buffer[] | undefined;
  private capturedSize = 0;
  private truncated = false;
  private headObjects: Record<string, unknown>[] | undefined = undefined;
  private normalised: Record<string, string> | undefined = undefined;

  constructor(private readonly captureBytes: number) {
    this.captured = captureBytes > 0 ? [] : undefined;
  }

  sawHead(args: unknown[]): void {
    for (let i = 1; i < args.length; i++) {
      const a = args[i];
      if (a && typeof a === 'object') {
        if (!Array.isArray(a)) {
          if (this.headObjects) this.headObjects.push(a as Record<string, unknown>);
          else this.headObjects = [a as Record<string, unknown>];
          this.normalised = undefined;
        }
        return;
      }
    }
  }

  see(chunk: unknown, encoding?: unknown): void {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) return;
    const buf = toBuffer(chunk, encoding);
    if (!buf.length) return;
    this.firstByteAt ??= Date.now();
    this.bytes += buf.length;
    if (this.headSize < HEAD_BYTES) {
      if (this.headParts) this.headParts.push(buf);
      else this.headParts = [buf];
      this.headSize += buf.length;
      this.headText = undefined;
      this.headBuf = undefined;
    }
    if (this.tailParts) this.tailParts.push(buf);
    else this.tailParts = [buf];
    this.tailSize += buf.length;
    if (this.tailSize > TAIL_BYTES * 2) {
      const joined = Buffer.concat(this.tailParts).subarray(-TAIL_BYTES);
      this.tailParts = [joined];
      this.tailSize = joined.length;
      this.trimmed = true;
    }
    const captured = this.captured;
    if (captured && !this.truncated) {
      if (this.capturedSize + buf.length > this.captureBytes) {
        captured.push(buf.subarray(0, this.captureBytes - this.capturedSize));
        this.capturedSize = this.captureBytes;
        this.truncated = true;
      } else {
        captured.push(buf);
        this.capturedSize += buf.length;
      }
    }
  }

  get headers(): Record<string, string> {
    if (!this.normalised) {
      const out: Record<string, string> = {};
      for (const obj of this.headObjects ?? []) for (const k in obj) if (obj[k] !== undefined) out[k.toLowerCase()] = String(obj[k]);
      this.normalised = out;
    }
    return this.normalised;
  }

  header(name: string): string | undefined {
    const objs = this.headObjects;
    if (!objs) return undefined;
    // The gateway writes lower-case names: look those up as they are, normalise only on a miss.
    for (let i = objs.length - 1; i >= 0; i--) {
      const v = objs[i][name];
      if (v !== undefined) return String(v);
    }
    return this.headers[name];
  }

  headBytes(): Buffer {
    this.headBuf ??= this.headParts ? join(this.headParts) : EMPTY;
    return this.headBuf;
  }

  tailBytes(): Buffer {
    if (!this.tailParts) return EMPTY;
    if (!this.trimmed && this.tailSize <= TAIL_BYTES && this.tailSize === this.headSize) return this.headBytes();
    return join(this.tailParts).subarray(-TAIL_BYTES);
  }

  head(): string {
    this.headText ??= this.headBytes().toString('utf8');
    return this.headText;
  }

  tail(): string {
    if (!this.tailParts) return '';
    // A body that fits the head is the head: decode it once.
    if (!this.trimmed && this.tailSize <= TAIL_BYTES && this.tailSize === this.headSize) return this.head();
    return join(this.tailParts).subarray(-TAIL_BYTES).toString('utf8');
  }

  body(): { text: string; truncated: boolean } | undefined {
    return this.captured ? { text: join(this.captured, this.capturedSize).toString('utf8'), truncated: this.truncated } : undefined;
  }
}

type AnyFn = (...a: unknown[]) => unknown;
const base = ServerResponse.prototype as unknown as Record<'writeHead' | 'write' | 'end', AnyFn>;

/** The gateway's response class: writeHead/write/end pass what they send to the attached taps (if any). */
export class TappedResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** @internal taps attached by tapResponse(); undefined on the (common) untapped response. */
  taps: Tap[] | undefined = undefined;
  /**
   * @internal Telemetry's tap and whether the pipeline recorded this response. Fields declared
   * here keep every response one shape; a WeakMap/WeakSet entry per request cost ~3 µs each,
   * mostly in the garbage collector (ephemeron tables).
   */
  telemetryTap: ResponseTap | undefined = undefined;
  telemetryRecorded = false;
}
{
  const proto = TappedResponse.prototype as unknown as Record<'writeHead' | 'write' | 'end', AnyFn>;
  proto.writeHead = function (this: TappedResponse, ...args: unknown[]) {
    const taps = this.taps;
    if (taps) for (const t of taps) t.sawHead(args);
    return base.writeHead.apply(this, args);
  };
  proto.write = function (this: TappedResponse, chunk: unknown, encoding?: unknown, cb?: unknown) {
    const taps = this.taps;
    if (taps) for (const t of taps) t.see(chunk, encoding);
    return base.write.call(this, chunk, encoding, cb);
  };
  proto.end = function (this: TappedResponse, chunk?: unknown, encoding?: unknown, cb?: unknown) {
    const taps = this.taps;
    if (taps) for (const t of taps) t.see(chunk, encoding);
    return base.end.call(this, chunk, encoding, cb);
  };
}

export function tapResponse(res: ServerResponse, captureBytes: number): ResponseTap {
  const tap = new Tap(captureBytes);
  if (res instanceof TappedResponse) {
    if (res.taps) res.taps.push(tap);
    else res.taps = [tap];
    return tap;
  }
  // Any other response: wrap its methods on the instance.
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    tap.sawHead(args);
    return (writeHead as AnyFn).apply(this, args);
  } as ServerResponse['writeHead'];
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: Chunk, ...rest: unknown[]) {
    tap.see(chunk, rest[0]);
    return (write as AnyFn).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    tap.see(chunk, rest[0]);
    return (end as AnyFn).call(this, chunk, ...rest);
  } as ServerResponse['end'];
  return tap;
}
