import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/core/logger.js';
import { telemetryOptionsFromEnv } from '../../runtime/gateway/telemetry/env.js';
import { createTelemetry } from '../../runtime/gateway/telemetry/request-log.js';
import { SelfTime } from '../../runtime/gateway/telemetry/self-time.js';
import { startJsonReceiver } from '../support/json-receiver.js';

/** TOLLGATE_TELEMETRY_SELF_TIME: telemetry's own time per record, the bench tool behind bench/telemetry-self-time.ts. */
describe('telemetry self-time', () => {
  let sink: Awaited<ReturnType<typeof startJsonReceiver>>;
  let url: string;
  const posts = () => sink.bodies.length;
  beforeAll(async () => {
    sink = await startJsonReceiver();
    url = sink.url;
  });
  afterAll(() => sink.close());

  const state = { organisationId: 'org-self', configs: new Map(), apiKeysByHash: new Map(), virtualKeys: new Map() } as never;
  const entry = (i: number) => ({
    traceId: `trace-self-${i}`, organisationId: 'org-self', workspaceId: 'ws-1', apiKeyId: 'key-1', method: 'POST', path: '/v1/chat/completions',
    status: 200, provider: 'openai', model: 'gpt-4o-mini', stream: false, retries: 0, startedAt: Date.now(), durationMs: 5,
    request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, headers: { 'user-agent': 'OpenAI/JS 4.77.0' },
  });
  const telemetryWith = (measureSelfTime?: boolean) =>
    createTelemetry({ controlPlaneUrl: url, dataPlaneToken: 'dp-token-self-0123456789', keyring: {} as never, state: () => state, logger: silentLogger, options: { logMode: 'off', batchSize: 4, measureSelfTime } });

  it('is off by default: nothing wrapped, no self_time in the stats', async () => {
    const telemetry = telemetryWith();
    const record = telemetry.record;
    telemetry.record(entry(0));
    expect(telemetry.record).toBe(record);
    expect(telemetry.stats().self_time).toBeUndefined();
    await telemetry.close();
  });

  it('counts records and reports ns per record for each part and their total', async () => {
    const telemetry = telemetryWith(true);
    const before = posts();
    for (let i = 0; i < 10; i++) telemetry.record(entry(i));
    await telemetry.flush();
    const stats = telemetry.stats();
    expect(posts() - before).toBe(3); // 4 + 4 + 2: the batches were still encoded and posted
    expect(stats.metrics.sentItems).toBe(10);
    expect(stats.self_time?.records).toBe(10);
    const per = stats.self_time!.ns_per_record;
    expect(per.record).toBeGreaterThan(0);
    expect(per.encode).toBeGreaterThan(0);
    expect(per.post).toBeGreaterThan(0);
    // Each line is rounded on its own: the sum may differ from the total by a few ns.
    expect(Math.abs(per.total - (per.record + per.encode + per.post + per.observe + per.tap))).toBeLessThanOrEqual(3);
    await telemetry.close();
  });

  it('adds a nested part ("a.b") to its own line but not twice to the total', () => {
    const selfTime = new SelfTime();
    const work = { outer: () => work.inner(), inner: () => [...Array(2000).keys()].reduce((a, b) => a + b, 0) };
    selfTime.wrap(work, 'inner', 'record.inner');
    selfTime.wrap(work, 'outer', 'record');
    for (let i = 0; i < 5; i++) work.outer();
    const { records, ns_per_record: per } = selfTime.stats();
    expect(records).toBe(5);
    expect(per['record.inner']).toBeGreaterThan(0);
    expect(per['record.inner']).toBeLessThanOrEqual(per.record);
    expect(per.total).toBe(per.record);
  });

  it('is switched on by TOLLGATE_TELEMETRY_SELF_TIME=1 only', () => {
    expect(telemetryOptionsFromEnv({ TOLLGATE_TELEMETRY_SELF_TIME: '1' }).measureSelfTime).toBe(true);
    expect(telemetryOptionsFromEnv({ TOLLGATE_TELEMETRY_SELF_TIME: '0' }).measureSelfTime).toBe(false);
    expect(telemetryOptionsFromEnv({}).measureSelfTime).toBe(false);
  });
});
