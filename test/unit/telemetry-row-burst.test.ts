import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/core/logger.js';
import { decodeColumnarRecords } from '../../runtime/control-plane/ingest/columnar.js';
import { createTelemetry } from '../../runtime/gateway/telemetry/request-log.js';
import { Tap, TappedResponse, tapResponse } from '../../runtime/gateway/telemetry/response-tap.js';
import { startJsonReceiver } from '../support/json-receiver.js';

type Any = Record<string, any>;

/**
 * Metric rows are built 64 at a time (request-log.ts, ROW_BURST): a recorded request whose row is
 * not built yet is still counted as queued, and the timer, flush and close build and ship the rest,
 * in order, once. Requests or answers over 64 KiB (or of unknown size) are not held.
 */
describe('telemetry: rows built in bursts', () => {
  let sink: Awaited<ReturnType<typeof startJsonReceiver>>;
  let url: string;
  let batches: Any[];
  beforeAll(async () => {
    sink = await startJsonReceiver();
    url = sink.url;
    batches = sink.bodies;
  });
  afterAll(() => sink.close());

  const state = { organisationId: 'org-burst', configs: new Map(), apiKeysByHash: new Map(), virtualKeys: new Map() } as never;
  const entry = (i: number) => ({
    traceId: `trace-burst-${i}`, organisationId: 'org-burst', workspaceId: 'ws-1', apiKeyId: 'key-1', method: 'POST', path: '/v1/chat/completions',
    status: 200, provider: 'openai', model: 'gpt-4o-mini', stream: false, retries: 0, startedAt: Date.now(), durationMs: 3 + (i % 5),
    request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, requestBytes: 80, headers: { 'user-agent': 'OpenAI/JS 4.77.0' },
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

  it('builds at once (with what it held) a request over 64 KiB, of unknown size, or with an answer over 64 KiB', async () => {
    const telemetryFor = () => createTelemetry({ controlPlaneUrl: url, dataPlaneToken: 'dp-token-burst-0123456789', keyring: {} as never, state: () => state, logger: silentLogger, options: { logMode: 'off', batchSize: 3, flushIntervalMs: 60_000 } });
    const shipped = async (n: number) => {
      for (let i = 0; i < 100 && traces().length < n; i++) await new Promise((r) => setTimeout(r, 10));
      return traces();
    };
    // A response whose tap saw a 200 KB answer.
    const res = new TappedResponse(new IncomingMessage(new Socket()));
    const tap = tapResponse(res, 0) as Tap;
    tap.see(Buffer.from(JSON.stringify({ choices: [{ message: { content: 'x'.repeat(200_000) } }], usage: { prompt_tokens: 1, completion_tokens: 2 } })));
    res.telemetryTap = tap;
    for (const [name, last] of [
      ['large request', { ...entry(2), requestBytes: 200_000 }],
      ['unknown size', { ...entry(2), requestBytes: undefined }],
      ['large answer', { ...entry(2), res }],
    ] as const) {
      batches.length = 0;
      const telemetry = telemetryFor();
      telemetry.record(entry(0));
      telemetry.record(entry(1));
      // Two held rows: nothing is built, so no batch of 3 is full.
      await new Promise((r) => setTimeout(r, 30));
      expect(batches, name).toHaveLength(0);
      // The third fills the batch only if it, and the two held before it, are built now.
      telemetry.record(last as never);
      expect(await shipped(3), name).toEqual(['trace-burst-0', 'trace-burst-1', 'trace-burst-2']);
      await telemetry.close();
    }
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
