import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timestreamAnalytics } from '../../runtime/adapters/timestream-analytics.js';
import { timestreamMetricsStore } from '../../runtime/adapters/timestream-metrics.js';
import type { MetricRecord, MetricsStore } from '../../runtime/core/metrics.js';
import { startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { startFakeTimestream, type FakeTimestream } from '../support/fake-timestream.js';
import { startObsHarness, waitFor } from '../support/observability.js';

type Any = Record<string, any>;
const CLIENT = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } };

/**
 * With Timestream as the metrics store, the analytics API answers from Timestream (through the
 * query client, against a fake speaking its wire protocol) exactly as the default Postgres store
 * answers for the same records: two control planes get the same ingested records, one reading
 * Postgres, one reading Timestream, and every graph, filter and group is compared.
 */
describe('observability: analytics from Timestream equal analytics from Postgres', () => {
  let fake: FakeTimestream;
  let sink: MetricsStore;
  let reader: ReturnType<typeof timestreamAnalytics>;
  let pgCp: EngineControlPlane;
  let tsCp: EngineControlPlane;
  const hour = 3_600_000;
  const start = Math.floor(Date.now() / hour) * hour - 5 * hour;
  const N = 300;
  const models = [['openai', 'gpt-4o-mini'], ['openai', 'gpt-4o'], ['anthropic', 'claude-3-5-haiku-latest']];
  const cache = ['MISS', 'HIT', 'SEMANTIC HIT', 'DISABLED', null];
  const teams = ['search', 'ads', "o'brien"];

  const record = (i: number, org: string, workspace: string): MetricRecord => {
    const [provider, model] = models[i % 3];
    const status = i % 11 === 0 ? 500 : i % 17 === 0 ? 429 : 200;
    return {
      id: `rec-${i}-${org}`.slice(0, 64), created_at: new Date(start + i * 61_000).toISOString(), organisation_id: org,
      workspace_id: i % 5 === 0 ? null : workspace, api_key_id: `key-${i % 4}`, virtual_key: i % 6 === 0 ? null : `vk-${i % 2}`,
      config_id: i % 3 === 0 ? 'cfg-a' : null, config_version: i % 3 === 0 ? 2 : null, prompt_id: i % 4 === 0 ? 'pr-1' : null, prompt_version: null,
      provider, model, endpoint: 'chatComplete', method: 'POST', stream: i % 2 === 0, status, success: status === 200,
      cache_status: cache[i % 5], retry_count: i % 13 === 0 ? 2 : 0, last_used_option_index: null,
      rescued_by: i % 13 === 0 ? 'retry' : i % 19 === 0 ? 'fallback' : null,
      req_units: 10 + (i % 50), res_units: 5 + (i % 30), total_units: 15 + (i % 50) + (i % 30), units_estimated: false, cost: ((i * 37) % 100) / 8,
      currency: 'USD', cost_unknown: false, total_ms: (i * 7919) % 4000, upstream_ms: 0, gateway_ms: 1, trace_id: `t-${i}`,
      span_id: `s-${i % 10}`, parent_span_id: null, span_name: null,
      metadata: i % 10 === 0 ? {} : { team: teams[i % 3], env: i % 7 < 2 ? 'dev' : 'prod' }, user: i % 9 === 0 ? null : `u-${i % 23}`,
      client_runtime: null, client_runtime_version: null, client_sdk: null, client_sdk_version: null, log_location: null, log_key: null, log_token: null,
    };
  };
  const ingest = async (t: EngineControlPlane) => {
    const records = Array.from({ length: N }, (_, i) => record(i, t.cp.organisationId, t.cp.defaultWorkspaceId));
    const res = await fetch(`${t.cp.url}/v1/ingest/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.cp.dataPlaneToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records }),
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    // Pages of 7 rows: every multi-row answer is read through NextToken.
    fake = await startFakeTimestream({ pageSize: 7 });
    sink = timestreamMetricsStore({ database: 'tollgate', table: 'requests', client: CLIENT, discoveryEndpoint: fake.url });
    reader = timestreamAnalytics({ database: 'tollgate', table: 'requests', client: CLIENT, discoveryEndpoint: fake.url });
    [pgCp, tsCp] = await Promise.all([startOn('pglite'), startOn('pglite', { metricsStore: sink, analytics: reader })]);
    await Promise.all([ingest(pgCp), ingest(tsCp)]);
    expect(fake.records.get('tollgate/requests')).toHaveLength(N);
    // Feedback (Postgres only) on some traces, twice on a few: groups join it by trace id.
    for (const t of [pgCp, tsCp]) {
      for (let i = 0; i < N; i += 7) {
        expect((await t.api('/v1/feedback', { method: 'POST', json: { trace_id: `t-${i}`, value: (i % 21) - 10, weight: (1 + (i % 3)) / 3 } })).status).toBeLessThan(300);
        if (i % 5 === 0) expect((await t.api('/v1/feedback', { method: 'POST', json: { trace_id: `t-${i}`, value: 3, weight: 0.5 } })).status).toBeLessThan(300);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.all([pgCp?.stop(), tsCp?.stop()]);
    await Promise.all([sink?.close(), reader?.close()]);
    await fake?.close();
  });

  const range = {
    time_of_generation_min: new Date(start + 0.5 * hour).toISOString(),
    time_of_generation_max: new Date(start + 4.75 * hour).toISOString(),
  };
  const get = async (t: EngineControlPlane, path: string, query: Record<string, string>) => {
    const res = await t.api(`/v1/analytics/${path}?${new URLSearchParams(query)}`);
    const body = (await res.json()) as Any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    return body;
  };
  const both = (path: string, q: Record<string, string>) => Promise.all([get(pgCp, path, q), get(tsCp, path, q)]);
  const rounded = (v: unknown): unknown =>
    typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : Array.isArray(v) ? v.map(rounded) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rounded(x)])) : v;

  const filters: Record<string, string>[] = [
    {},
    { granularity: 'minute' },
    { granularity: 'day' },
    { granularity: 'week' },
    { ai_org_model: 'openai__gpt-4o-mini,claude-3-5-haiku-latest' },
    { provider: 'anthropic' },
    { status_code: '200,500' },
    { success: 'false' },
    { api_key_ids: 'key-1,key-2', virtual_keys: 'vk-1' },
    { configs: 'cfg-a' },
    { prompt_id: 'pr-1' },
    { workspace_slug: 'default' },
    { cache_status: 'hit,semantic hit' },
    { metadata: JSON.stringify({ team: 'ads' }) },
    { metadata: JSON.stringify({ team: 'search', env: 'dev' }) },
    { metadata: JSON.stringify({ team: "o'brien" }) },
    { trace_id: 't-30,t-31,t-33' },
    { span_id: 's-3' },
    { cost_min: '3', latency_max: '3000' },
  ];
  const untilNow = new Date(Date.now() + 10 * 60_000).toISOString();
  const exact = ['requests', 'cost', 'tokens', 'errors', 'errors-rate', 'errors-stack', 'errors-status-code', 'requests-rescued', 'cache-hit-rate', 'cache-latency', 'users', 'users-requests'];

  it.each(filters)('every graph and the cache summary equal Postgres (%o)', async (filter) => {
    const q = { ...range, ...filter };
    const [pgRequests] = await both('graphs/requests', q);
    expect(pgRequests.summary.total).toBeGreaterThan(0);
    for (const name of exact) {
      const [pg, ts] = await both(`graphs/${name}`, q);
      expect(rounded(ts), name).toEqual(rounded(pg));
    }
    const [pgCache, tsCache] = await both('summary/cache', q);
    expect(rounded(tsCache)).toEqual(rounded(pgCache));
    // Percentiles: Timestream's are approximate, Postgres' may come from histograms; averages are exact.
    const [pg, ts] = await both('graphs/latency', q);
    expect(ts.data_points.length).toBe(pg.data_points.length);
    for (const [a, b] of [[ts.summary, pg.summary], ...ts.data_points.map((p: Any, i: number) => [p, pg.data_points[i]])]) {
      expect(a.avg).toBeCloseTo(b.avg, 1);
      for (const k of ['p50', 'p90', 'p99']) expect(Math.abs(a[k] - b[k]), `${k}: ${a[k]} vs ${b[k]}`).toBeLessThanOrEqual(2 + b[k] * 0.2);
    }
  });

  const groups: [string, Record<string, string>][] = [
    ['ai-models', {}],
    ['ai-models', { metadata: JSON.stringify({ env: 'dev' }) }],
    ['metadata/team', {}],
    ['metadata/env', { ai_org_model: 'gpt-4o' }],
    ['metadata/nobody-sent-this', {}],
    ['status_code', { provider: 'openai' }],
    ['api_key', { page_size: '2', current_page: '1' }],
    ['users', { page_size: '5' }],
    ['virtual_key', { success: 'true' }],
    // Feedback is dated now: a range up to now joins it.
    ['ai-models', { time_of_generation_max: untilNow }],
    ['metadata/team', { time_of_generation_max: untilNow, status_code: '200' }],
    ['status_code', { time_of_generation_max: untilNow }],
  ];
  it.each(groups)('groups equal Postgres (%s %o)', async (path, filter) => {
    const q = { ...range, ...filter };
    const [pg, ts] = await both(`groups/${path}`, q);
    const strip = (r: Any) => rounded({ ...r, data: r.data.map(({ p95_latency, p99_latency, ...rest }: Any) => rest) });
    expect(strip(ts)).toEqual(strip(pg));
    if (path !== 'metadata/nobody-sent-this') expect(pg.data.length).toBeGreaterThan(0);
    if (filter.time_of_generation_max === untilNow) expect(pg.data.some((g: Any) => g.requests_with_feedback > 0)).toBe(true);
    for (const [i, g] of ts.data.entries()) {
      for (const k of ['p95_latency', 'p99_latency']) expect(Math.abs(g[k] - pg.data[i][k]), k).toBeLessThanOrEqual(2 + pg.data[i][k] * 0.2);
    }
  });

  it('the portkey-ai SDK reads Timestream-backed analytics', async () => {
    const requests = (await tsCp.sdk.analytics.graphs.requests(range)) as Any;
    expect(requests.summary.total).toBe(((await pgCp.sdk.analytics.graphs.requests(range)) as Any).summary.total);
    const byModel = (await tsCp.sdk.analytics.groups.aiModels(range)) as Any;
    expect(byModel.data.map((m: Any) => m.ai_model).sort()).toEqual(models.map(([, m]) => m).sort());
  });

  it('filter values are literals: quotes cannot change the statement', async () => {
    const statementsBefore = fake.query.statements.length;
    const hostile: Record<string, string>[] = [
      { metadata: JSON.stringify({ team: "x' OR '1'='1" }) },
      { ai_org_model: "gpt-4o' OR 'a'='a" },
      { trace_id: "t-1') OR ('1'='1" },
      { api_key_ids: 'key-1"; DROP TABLE requests; --' },
      { metadata: JSON.stringify({ "te\"am'": 'ads' }) },
    ];
    for (const f of hostile) {
      const [pg, ts] = await both('graphs/requests', { ...range, ...f });
      expect(ts.summary.total, JSON.stringify(f)).toBe(0);
      expect(pg.summary.total).toBe(0);
    }
    const [, quoted] = await both('graphs/requests', { ...range, metadata: JSON.stringify({ team: "o'brien" }) });
    expect(quoted.summary.total).toBeGreaterThan(0);
    const sent = fake.query.statements.slice(statementsBefore).join('\n');
    expect(sent).toContain(`"md_team" = 'x'' OR ''1''=''1'`);
    expect(sent).toContain(`"md_team" = 'o''brien'`);
    // The table is still there after the DROP attempt.
    expect((await reader.query('SELECT count(*) AS n FROM "tollgate"."requests"'))[0].n).toBe(String(N));
  });

  it('pages through NextToken to the last row', async () => {
    const pagesBefore = fake.query.pagesServed;
    const rows = await reader.query('SELECT "request_id" FROM "tollgate"."requests" ORDER BY "time"');
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(N);
    expect(fake.query.pagesServed - pagesBefore).toBe(Math.ceil(N / 7) - 1);
    const calls = fake.calls.filter((c) => c.target === 'Timestream_20181101.Query');
    expect(calls.length).toBeGreaterThan(N / 7);
    expect(calls.every((c) => c.signed && c.contentType === 'application/x-amz-json-1.0')).toBe(true);
    expect(fake.calls.filter((c) => c.target === 'Timestream_20181101.DescribeEndpoints').length).toBeGreaterThanOrEqual(1);
  });

  it('feedback and log search stay on Postgres with Timestream as the store', async () => {
    const untilNow = { ...range, time_of_generation_max: new Date(Date.now() + 60_000).toISOString() };
    const before = (await get(pgCp, 'graphs/feedbacks', untilNow)).summary.total;
    expect(before).toBeGreaterThan(0);
    const fb = await tsCp.api('/v1/feedback', { method: 'POST', json: { trace_id: 't-40', value: 5, weight: 1 } });
    expect(fb.status).toBeLessThan(300);
    // Feedback is dated when it was given (now), past the records' range.
    const graph = await get(tsCp, 'graphs/feedbacks', untilNow);
    expect(graph.summary.total).toBe(before + 1);
    const logs = (await (await tsCp.api(`/v1/logs?${new URLSearchParams({ ...range, page_size: '1' })}`)).json()) as Any;
    expect(logs.total).toBe((await get(pgCp, 'graphs/requests', range)).summary.total);
    expect(fake.query.statements.some((s) => /feedback/i.test(s))).toBe(false);
  });
});

describe('observability: real gateway traffic, analytics read from Timestream (portkey-ai SDK)', () => {
  it('the SDK sees what went through the gateway', async () => {
    const fake = await startFakeTimestream({ pageSize: 2 });
    const sink = timestreamMetricsStore({ database: 'cp', table: 'requests', client: CLIENT, discoveryEndpoint: fake.url });
    const reader = timestreamAnalytics({ database: 'cp', table: 'requests', client: CLIENT, discoveryEndpoint: fake.url });
    const h = await startObsHarness({ controlPlane: { metricsStore: sink, analytics: reader } });
    try {
      const client = (model: string, team: string) => h.openai({ 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-metadata': JSON.stringify({ team }) }).chat.completions.create({ model, messages: [{ role: 'user', content: 'a b c' }] });
      for (let i = 0; i < 3; i++) await client('gpt-4o-mini', 'search');
      await client('gpt-4o', "o'brien");
      await waitFor(async () => (fake.records.get('cp/requests')?.length ?? 0) === 4, '4 records in Timestream');
      const q = { time_of_generation_min: new Date(Date.now() - 3600_000).toISOString(), time_of_generation_max: new Date(Date.now() + 60_000).toISOString() };
      const statements = fake.query.statements.length;
      expect(((await h.admin.analytics.graphs.requests(q)) as Any).summary.total).toBe(4);
      expect(((await h.admin.analytics.graphs.tokens(q)) as Any).summary.total).toBe(4 * 6);
      const models = (await h.admin.analytics.groups.aiModels(q)) as Any;
      expect(models.data.map((m: Any) => [m.ai_model, m.requests])).toEqual([['gpt-4o-mini', 3], ['gpt-4o', 1]]);
      const teams = (await h.admin.analytics.groups.metadata('team', q)) as Any;
      expect(teams.data.map((m: Any) => [m.metadata_value, m.requests])).toEqual([['search', 3], ["o'brien", 1]]);
      // Answered by Timestream, not Postgres.
      expect(fake.query.statements.length).toBeGreaterThan(statements);
    } finally {
      await h.close();
      await Promise.all([sink.close(), reader.close()]);
      await fake.close();
    }
  }, 60_000);
});
