import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../runtime/core/logger.js';
import type { MetricRecord } from '../../runtime/core/metrics.js';
import { METRIC_COLUMNS } from '../../runtime/core/metrics-wire.js';
import { decodeColumnarRecords } from '../../runtime/control-plane/ingest/columnar.js';
import { createTelemetry } from '../../runtime/gateway/telemetry/request-log.js';
import { encodeMetricsBatch } from '../../runtime/gateway/telemetry/wire.js';
import { startOn, type EngineControlPlane } from '../support/cp-engines.js';

type Any = Record<string, any>;

/**
 * The metrics wire format 2 (columns, runtime/core/metrics-wire.ts): what the gateway encodes is
 * what the control plane decodes, format 1 rows (older gateways) are still accepted, an unknown
 * format is a 400 in the documented shape, and nothing secret reaches the wire.
 */
describe('observability: metrics wire format', () => {
  let t: EngineControlPlane;
  beforeAll(async () => {
    t = await startOn('pglite');
  }, 60_000);
  afterAll(async () => t?.stop());

  const shared = { team: 'search', _user: 'u-1' };
  const record = (i: number, org = t.cp.organisationId): MetricRecord => ({
    id: randomUUID(), created_at: new Date(Date.now() - i * 1000).toISOString(), organisation_id: org, workspace_id: t.cp.defaultWorkspaceId,
    api_key_id: `key-${i % 2}`, virtual_key: i % 3 ? 'vk-a' : null, config_id: null, config_version: null, prompt_id: null, prompt_version: null,
    provider: 'openai', model: i % 2 ? 'gpt-4o-mini' : 'gpt-4o', endpoint: 'chatComplete', method: 'POST', stream: i % 2 === 0,
    status: i === 3 ? 429 : 200, success: i !== 3, cache_status: 'DISABLED', retry_count: 0, last_used_option_index: null, rescued_by: null,
    req_units: 10 + i, res_units: 5 + i, total_units: 15 + 2 * i, units_estimated: false, cost: i / 7, currency: 'USD', cost_unknown: false,
    total_ms: 100 + i, upstream_ms: 90 + i, gateway_ms: 10, trace_id: `trace-wire-${i}`, span_id: null, parent_span_id: null, span_name: null,
    metadata: i % 4 ? shared : { team: `t-${i}` }, user: 'u-1', client_runtime: 'node', client_runtime_version: 'v22', client_sdk: 'openai/js',
    client_sdk_version: '4.77.0', log_location: null, log_key: null, log_token: null,
  });
  const post = (body: unknown) =>
    fetch(`${t.cp.url}/v1/ingest/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.cp.dataPlaneToken}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('round-trips every field through constant, dictionary and plain columns', () => {
    const records = Array.from({ length: 40 }, (_, i) => record(i));
    const body = JSON.parse(encodeMetricsBatch(records, { gateway_version: 'test' })) as Any;
    expect(body).toMatchObject({ format: 2, count: 40, gateway_version: 'test' });
    expect(Object.keys(body.columns).sort()).toEqual([...METRIC_COLUMNS].sort());
    expect(body.columns.provider).toEqual({ c: 'openai' });
    expect(body.columns.model.d.sort()).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(Array.isArray(body.columns.id)).toBe(true);
    expect(decodeColumnarRecords(body)).toEqual(records);
    // Field names once per batch, repeated values once per distinct value: far below the rows' size.
    expect(JSON.stringify(body).length).toBeLessThan(JSON.stringify({ records }).length / 3);
  });

  it('stores a columnar batch exactly like the same rows, idempotently', async () => {
    const records = Array.from({ length: 25 }, (_, i) => record(i));
    const res = await post(encodeMetricsBatch(records, { gateway_url: 'http://gw.example:8787' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 25, inserted: 25 });
    const again = await post(encodeMetricsBatch(records, {}));
    expect(await again.json()).toMatchObject({ accepted: 25, inserted: 0 });
    const { rows } = await t.cp.db.query<Any>('SELECT id, model, status, stream, metadata, cost, end_user FROM request_metrics WHERE trace_id LIKE $1 ORDER BY trace_id', ['trace-wire-%']);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const r of records) {
      expect(byId.get(r.id)).toMatchObject({ model: r.model, status: r.status, stream: r.stream, metadata: r.metadata, end_user: r.user });
      expect(Number(byId.get(r.id)!.cost)).toBeCloseTo(r.cost, 6);
    }
  });

  it('still accepts format 1 rows, with or without the format field', async () => {
    const rows = [record(50), record(51)];
    const res = await post({ records: rows });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 2, inserted: 2 });
    const explicit = await post({ format: 1, records: [record(52)] });
    expect(await explicit.json()).toMatchObject({ accepted: 1, inserted: 1 });
  });

  it('refuses unknown formats and malformed columns with a 400 naming the problem, and other tenants with a 403', async () => {
    const unknown = await post({ format: 3, count: 0, columns: {} });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ status: 'failure', message: expect.stringMatching(/unsupported metrics batch format 3.*1.*2/) });

    const body = JSON.parse(encodeMetricsBatch([record(60), record(61)], {})) as Any;
    const short = await post({ ...body, columns: { ...body.columns, id: [body.columns.id[0]] } });
    expect(short.status).toBe(400);
    expect((await short.json()).message).toMatch(/columns\.id: expected 2 values, got 1/);
    const { model: _m, ...missing } = body.columns;
    const noModel = await post({ ...body, columns: missing });
    expect((await noModel.json()).message).toMatch(/columns\.model: missing/);
    const badIndex = await post({ ...body, columns: { ...body.columns, api_key_id: { d: ['k'], i: [0, 5] } } });
    expect((await badIndex.json()).message).toMatch(/columns\.api_key_id\.i: 5 is not an index/);
    const badValue = await post({ ...body, columns: { ...body.columns, status: { c: 'two hundred' } } });
    expect(badValue.status).toBe(400);
    expect((await badValue.json()).message).toMatch(/status/);

    const foreign = await post(encodeMetricsBatch([record(62, 'org-somebody-else')], {}));
    expect(foreign.status).toBe(403);
    const { rows } = await t.cp.db.query<Any>("SELECT count(*)::int AS n FROM request_metrics WHERE trace_id IN ('trace-wire-60', 'trace-wire-61', 'trace-wire-62')");
    expect(rows[0].n).toBe(0);
  });
});

describe('observability: what the gateway puts on the wire', () => {
  let sink: Server;
  const bodies: Any[] = [];
  let url: string;
  beforeAll(async () => {
    sink = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        bodies.push({ headers: req.headers, body: JSON.parse(text) });
        res.end('{"status":"success"}');
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => sink.close(() => r())));

  it('sends format 2 batches that decode to full records and carry no header value or key', async () => {
    const providerKey = 'sk-provider-wire-0123456789';
    const callerKey = 'pk-caller-wire-0123456789';
    const state = { organisationId: 'org-wire', configs: new Map(), apiKeysByHash: new Map(), virtualKeys: new Map() } as never;
    const telemetry = createTelemetry({ controlPlaneUrl: url, dataPlaneToken: 'dp-token-wire-0123456789', keyring: {} as never, state: () => state, logger: silentLogger, options: { logMode: 'off', batchSize: 3 } });
    const headers = {
      'x-portkey-api-key': callerKey,
      authorization: `Bearer ${providerKey}`,
      'x-portkey-metadata': JSON.stringify({ team: 'wire', _user: 'user-7' }),
      'x-portkey-span-id': 'span-1',
      'user-agent': 'OpenAI/JS 4.77.0',
      'x-stainless-runtime': 'node',
    };
    for (let i = 0; i < 5; i++) {
      telemetry.record({
        traceId: `trace-gw-${i}`, organisationId: 'org-wire', workspaceId: 'ws-1', apiKeyId: 'key-1', method: 'POST', path: '/v1/chat/completions',
        status: 200, provider: 'openai', model: 'gpt-4o-mini', stream: false, retries: 0, startedAt: Date.now(), durationMs: 12,
        request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `say ${providerKey}` }] }, headers, secrets: [providerKey],
      });
    }
    await telemetry.flush();
    await telemetry.close();
    expect(bodies.map((b) => b.body.count)).toEqual([3, 2]);
    const records = bodies.flatMap((b) => {
      expect(b.body.format).toBe(2);
      expect(b.headers.authorization).toBe('Bearer dp-token-wire-0123456789');
      return decodeColumnarRecords(b.body);
    });
    expect(records.map((r) => r.trace_id)).toEqual([0, 1, 2, 3, 4].map((i) => `trace-gw-${i}`));
    expect(records[4]).toMatchObject({
      organisation_id: 'org-wire', provider: 'openai', model: 'gpt-4o-mini', span_id: 'span-1', user: 'user-7', metadata: { team: 'wire', _user: 'user-7' },
      client_runtime: 'node', client_sdk: 'openai/js', client_sdk_version: '4.77.0', units_estimated: true, total_ms: 12, cost_unknown: false,
    });
    const wire = JSON.stringify(bodies.map((b) => b.body));
    for (const secret of [providerKey, callerKey, 'dp-token-wire']) expect(wire).not.toContain(secret);
  });

  it('replays a spool file written before format 2 (format 1 rows) after an upgrade, and counts its records', async () => {
    bodies.length = 0;
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-wire-spool-'));
    try {
      await mkdir(join(dir, 'metrics'), { recursive: true });
      const rows = [0, 1, 2].map((i) => ({ id: `legacy-row-${i}`, created_at: new Date().toISOString(), organisation_id: 'org-wire', trace_id: `legacy-${i}` }));
      await writeFile(join(dir, 'metrics', '000001795790000000-abcdef-000000000.batch.json'), JSON.stringify(rows));
      const state = { organisationId: 'org-wire', configs: new Map(), apiKeysByHash: new Map(), virtualKeys: new Map() } as never;
      const telemetry = createTelemetry({ controlPlaneUrl: url, dataPlaneToken: 'dp-token-wire-0123456789', keyring: {} as never, state: () => state, logger: silentLogger, options: { logMode: 'off', spoolDir: dir, retryBaseMs: 10 } });
      for (let i = 0; i < 50 && telemetry.stats().metrics.sentItems < 3; i++) await new Promise((r) => setTimeout(r, 100));
      expect(telemetry.stats().metrics).toMatchObject({ sentItems: 3, spooledItems: 0 });
      expect(bodies).toHaveLength(1);
      expect(bodies[0].body.format).toBeUndefined();
      expect(bodies[0].body.records).toEqual(rows);
      expect((await readdir(join(dir, 'metrics'))).filter((f) => f.endsWith('.batch.json'))).toEqual([]);
      await telemetry.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
