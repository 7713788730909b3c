import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a mock upstream saw: tests assert on headers (no x-portkey-*, right auth) and bodies. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/**
 * Knobs every mock upstream shares: fail the next N calls with a status, delay the response
 * headers, pause between stream chunks, or hold a stream after its first chunk until released.
 */
export class MockControl {
  readonly requests: RecordedRequest[] = [];
  /** Responses whose client (the gateway) hung up before the mock finished them. */
  abortedResponses = 0;
  private failures: { status: number; remaining: number } | undefined;
  delayMs = 0;
  chunkDelayMs = 0;
  private hold: { promise: Promise<void>; release: () => void } | undefined;
  /** Extra headers on the failures from `fail()` (e.g. `retry-after-ms`). */
  failHeaders: Record<string, string> = {};
  /** A streamed reply breaks (socket destroyed) after its first content chunk. */
  breakStream = false;
  /** A streamed reply sends the provider's own in-band error event after its first content chunk, then ends cleanly. */
  streamErrorEvent = false;

  /** The next `times` requests (default: all) answer `status` in the provider's error format. */
  fail(status: number, times = Number.POSITIVE_INFINITY): this {
    this.failures = { status, remaining: times };
    return this;
  }

  /** A streamed reply stops after its first content chunk until `releaseStream()`. */
  holdStreamAfterFirstChunk(): this {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.hold = { promise, release };
    return this;
  }

  releaseStream(): void {
    this.hold?.release();
  }

  reset(): void {
    this.requests.length = 0;
    this.abortedResponses = 0;
    this.failures = undefined;
    this.delayMs = 0;
    this.chunkDelayMs = 0;
    this.hold?.release();
    this.hold = undefined;
    this.breakStream = false;
    this.streamErrorEvent = false;
    this.failHeaders = {};
  }

  /** @internal */ takeFailure(): number | undefined {
    if (!this.failures || this.failures.remaining <= 0) return undefined;
    this.failures.remaining--;
    return this.failures.status;
  }

  /** @internal */ async betweenChunks(index: number): Promise<void> {
    if (index === 1 && this.hold) await this.hold.promise;
    if (index === 1 && this.breakStream) {
      // Let what was written reach the wire first: destroying at once can drop it with the socket.
      await sleep(20);
      throw new Error('mock: stream broken on purpose');
    }
    if (this.chunkDelayMs) await sleep(this.chunkDelayMs);
  }
}

export interface MockServer {
  url: string;
  control: MockControl;
  close(): Promise<void>;
}

export type MockHandler = (req: IncomingMessage, res: ServerResponse, body: any, control: MockControl) => Promise<void> | void;

export async function startMockServer(handler: MockHandler): Promise<MockServer> {
  const control = new MockControl();
  const server: Server = createServer((req, res) => {
    res.on('close', () => {
      if (!res.writableFinished) control.abortedResponses++;
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: any = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      control.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers }, body });
      try {
        if (control.delayMs) await sleep(control.delayMs);
        await handler(req, res, body, control);
      } catch (err) {
        if (res.headersSent) return void res.destroy(); // a stream that breaks mid-way: no clean end
        res.writeHead(500);
        res.end(String(err));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    control,
    close: () =>
      new Promise<void>((resolve) => {
        control.releaseStream();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A rough but deterministic token count (whitespace words), so usage assertions are exact. */
export function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}
