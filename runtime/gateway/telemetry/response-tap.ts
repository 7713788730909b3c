import { Buffer } from 'node:buffer';
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
 * One tap's state. Most responses are one write (`end(body)`) with one headers object: that chunk
 * and that object are kept in fields, and the part lists are made only when a second one comes.
 * Headers are kept as the objects writeHead got and normalised only when read.
 */
export class Tap implements ResponseTap {
  bytes = 0;
  /** The only chunk so far (until a second one moves it into the part lists). */
  private single: Buffer | undefined = undefined;
  private headParts: Buffer[] | undefined = undefined;
  private headSize = 0;
  private headText: string | undefined = undefined;
  private headBuf: Buffer | undefined = undefined;
  private tailParts: Buffer[] | undefined = undefined;
  private tailSize = 0;
  private captured: Buffer[] | undefined;
  private capturedSize = 0;
  private truncated = false;
  private headObject: Record<string, unknown> | undefined = undefined;
  private moreHeadObjects: Record<string, unknown>[] | undefined = undefined;
  private normalised: Record<string, string> | undefined = undefined;

  constructor(private readonly captureBytes: number) {
    this.captured = captureBytes > 0 ? [] : undefined;
  }

  sawHead(args: unknown[]): void {
    for (let i = 1; i < args.length; i++) {
      const a = args[i];
      if (a && typeof a === 'object') {
        if (!Array.isArray(a)) {
          if (!this.headObject) this.headObject = a as Record<string, unknown>;
          else (this.moreHeadObjects ??= []).push(a as Record<string, unknown>);
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
    this.bytes += buf.length;
    if (this.captured) this.capture(buf);
    if (this.bytes === buf.length) {
      this.single = buf;
      this.headSize = this.tailSize = buf.length;
      return;
    }
    if (this.single) {
      this.headParts = [this.single];
      this.tailParts = [this.single];
      this.single = undefined;
    }
    if (this.headSize < HEAD_BYTES) {
      this.headParts!.push(buf);
      this.headSize += buf.length;
      this.headText = undefined;
      this.headBuf = undefined;
    }
    this.tailParts!.push(buf);
    this.tailSize += buf.length;
    if (this.tailSize > TAIL_BYTES * 2) {
      const joined = Buffer.concat(this.tailParts!).subarray(-TAIL_BYTES);
      this.tailParts = [joined];
      this.tailSize = joined.length;
    }
  }

  private capture(buf: Buffer): void {
    if (this.truncated) return;
    if (this.capturedSize + buf.length > this.captureBytes) {
      this.captured!.push(buf.subarray(0, this.captureBytes - this.capturedSize));
      this.capturedSize = this.captureBytes;
      this.truncated = true;
    } else {
      this.captured!.push(buf);
      this.capturedSize += buf.length;
    }
  }

  get headers(): Record<string, string> {
    if (!this.normalised) {
      const out: Record<string, string> = {};
      const add = (obj: Record<string, unknown>) => {
        for (const k in obj) if (obj[k] !== undefined) out[k.toLowerCase()] = String(obj[k]);
      };
      if (this.headObject) add(this.headObject);
      for (const obj of this.moreHeadObjects ?? []) add(obj);
      this.normalised = out;
    }
    return this.normalised;
  }

  header(name: string): string | undefined {
    if (!this.headObject) return undefined;
    // The gateway writes lower-case names: look those up as they are, normalise only on a miss.
    const more = this.moreHeadObjects;
    if (more) {
      for (let i = more.length - 1; i >= 0; i--) {
        const v = more[i][name];
        if (v !== undefined) return String(v);
      }
    }
    const v = this.headObject[name];
    return v !== undefined ? String(v) : this.headers[name];
  }

  headBytes(): Buffer {
    if (this.single) return this.single;
    this.headBuf ??= this.headParts ? join(this.headParts) : EMPTY;
    return this.headBuf;
  }

  tailBytes(): Buffer {
    const single = this.single;
    if (single) return single.length <= TAIL_BYTES ? single : single.subarray(-TAIL_BYTES);
    if (!this.tailParts) return EMPTY;
    return join(this.tailParts).subarray(-TAIL_BYTES);
  }

  head(): string {
    this.headText ??= this.headBytes().toString('utf8');
    return this.headText;
  }

  tail(): string {
    // A body that fits the tail is the head: decode it once.
    if (this.single && this.single.length <= TAIL_BYTES) return this.head();
    const tail = this.tailBytes();
    return tail.length ? tail.toString('utf8') : '';
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
