import { Readable } from 'node:stream';

/**
 * What a consumer of an upstream answer may do with its body: the subset of undici's BodyReadable
 * the pipeline, guardrails and limits use. Two implementations: a small answer already in memory
 * (no stream per response), and a streamed one (SSE, large or unsized bodies).
 */
export interface UpstreamBody extends AsyncIterable<Buffer | Uint8Array | string> {
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  /** Drops the rest of the answer (a small one is read to the end so its connection is reused). */
  dump(): Promise<void>;
  destroy(err?: Error): unknown;
}

const EMPTY = Buffer.alloc(0);

/** A complete answer of known, small length: read by the upstream handler before anyone asked. */
export class BufferedBody implements UpstreamBody {
  constructor(readonly buffer: Buffer) {}

  text(): Promise<string> {
    return Promise.resolve(this.buffer.toString('utf8'));
  }

  json(): Promise<unknown> {
    try {
      return Promise.resolve(JSON.parse(this.buffer.toString('utf8')));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    const { buffer, byteOffset, byteLength } = this.buffer;
    return Promise.resolve(buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer);
  }

  dump(): Promise<void> {
    return Promise.resolve();
  }

  destroy(): this {
    return this;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.buffer.length) yield this.buffer;
  }
}

export const emptyBody = (): BufferedBody => new BufferedBody(EMPTY);

/** Most a discarded stream is read before its connection is given up instead. */
const DUMP_LIMIT = 128 * 1024;

/**
 * A streamed answer: the upstream handler pushes chunks; a full buffer pauses the upstream socket
 * until the consumer reads again; destroying it aborts the upstream request.
 */
export class StreamBody extends Readable implements UpstreamBody {
  private ended = false;

  constructor(
    private readonly resumeUpstream: () => void,
    private readonly abortUpstream: (err: Error) => void,
  ) {
    super();
  }

  override _read(): void {
    this.resumeUpstream();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (!this.ended) this.abortUpstream(err ?? new Error('the upstream body was dropped'));
    callback(err);
  }

  /** The upstream finished sending. */
  finish(): void {
    this.ended = true;
    this.push(null);
  }

  private async collect(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this) parts.push(chunk as Buffer);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  async text(): Promise<string> {
    return (await this.collect()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const { buffer, byteOffset, byteLength } = await this.collect();
    return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
  }

  async dump(): Promise<void> {
    let read = 0;
    try {
      // Leaving the loop early destroys the stream, which aborts the upstream request.
      for await (const chunk of this) if ((read += (chunk as Buffer).length) > DUMP_LIMIT) break;
    } catch {
      /* already failed: nothing to drain */
    }
  }
}
