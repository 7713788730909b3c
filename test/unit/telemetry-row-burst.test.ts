import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/core/logger.js';
import { decodeColumnarRecords } from '../../runtime/control-plane/ingest/columnar.js';
import { createTelemetry } from '../../runtime/gateway/telemetry/request-log.js';

type Any = Record<string, any>;

/**
 * Metric rows are built 64 at a time (request-log.ts, ROW_BURST): a recorded request whose row is
 * not built yet is still counted as queued, and the timer, flush and close build and ship the rest,
 * in order, once.
 */
describe('telemetry: rows built in bursts', () => {
  let sink: Server;
  let url: string;
  const batches: Any[] = [];
  beforeAll(async () => {
    sink = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        batches.push(JSON.parse(text));
        res.end('{"status":"success"}');
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => sink.close(() => r())));

  const state = { organisationId: 'org-burst', configs: new Map(), apiKeysByHash: new Map(), virtualKeys: new Map() } as never;
  const entry = (i: number) => ({
    traceId: `trace-burst-${i}`, organisationId: 'org-burst', workspaceId: 'ws-1', apiKeyId: 'key-1', method: 'POST', path: '/v1/chat/completions',
    status: 200, provider: 'openai', model: 'gpt-4o-mini', stream: false, retries: 0, startedAt: Date.now(), durationMs: 3 + (i % 5),
    request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, headers: { 'user-agent': 'OpenAI/JS 4.77.0' },
  });
  const traces = () => batches.flatMap((b) => decodeColumnarRecords(b).map((r) => r.trace_id));

  it('counts unbuilt rows as queued, and close ships every record once, in order', async () => {
    batches.length = 0;
    const telemetry = createTelemetry({ controlPlaneUrl: url, dataPlaneToken: 'dp-token-burst-0123456789', keyring: {} as never, state: () => state, logger: silentLogger, options: { logMode: 'off', flushIntervalMs: 60_000 } });
    for (let i = 0; i < 70; i++) telemetry.record(entry(i));
    expect(telemetry.stats().metrics.queued).toBe(70);
    expect(batches).toHaveLength(0);
    await telemetry.close();
    expect(traces()).toEqual(Array.from({ length: 70 }, (_, i) => `trace-burst-${i}`));
  });

  it('the flush timer ships a burst that never filled', async () => {
    batches.length = 0;
    const telemetry = createTelemetry({ controlPlaneUrl: url, dataPlaneToken: 'dp-token-burst-0123456789', keyring: {} as never, state: () => state, logger: silentLogger, options: { logMode: 'off', flushIntervalMs: 50 } });
    for (let i = 0; i < 5; i++) telemetry.record(entry(i));
    for (let i = 0; i < 100 && telemetry.stats().metrics.sentItems < 5; i++) await new Promise((r) => setTimeout(r, 20));
    expect(telemetry.stats().metrics).toMatchObject({ sentItems: 5, queued: 0 });
    expect(traces()).toEqual([0, 1, 2, 3, 4].map((i) => `trace-burst-${i}`));
    await telemetry.close();
    expect(traces()).toHaveLength(5);
  });
});
