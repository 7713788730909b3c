import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricRecord } from '../../runtime/core/metrics.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { rollUpMetrics } from '../../runtime/control-plane/analytics/rollup-job.js';
import { ROLLUP_DIMENSIONS } from '../../runtime/control-plane/db/schema/063-metric-rollups.js';

type Any = Record<string, any>;

/**
 * Analytics from the hourly rollups equal analytics from raw rows. Any numeric range filter sends a
 * query to raw rows only, and `latency_min=0` keeps every row, so the same question is asked of
 * both stores. Ranges start and end mid-hour, so the raw edges are part of every rollup answer.
 * The roll-up runs in the background (migration 64): the answers are compared while only the first
 * batch is rolled up (the rest is read raw past the watermark), and again after a full roll-up.
 */
describe.each(engines)('observability: hourly rollups answer like raw rows (%s)', (engine) => {
  let t: EngineControlPlane;
  const hour = 3_600_000;
  const start = Math.floor(Date.now() / hour) * hour - 50 * hour;
  const models = [['openai', 'gpt-4o-mini'], ['openai', 'gpt-4o'], ['anthropic', 'claude-3-5-haiku-latest']];
  const cache = ['MISS', 'HIT', 'SEMANTIC HIT', 'DISABLED', null];

  const record = (i: number): MetricRecord => {
    const [provider, model] = models[i % 3];
    const status = i % 11 === 0 ? 500 : i % 17 === 0 ? 429 : 200;
    return {
      id: randomUUID(), created_at: new Date(start + i * 97_000 + (i % 7) * 1000).toISOString(), organisation_id: t.cp.organisationId,
      workspace_id: i % 5 === 0 ? null : t.cp.defaultWorkspaceId, api_key_id: `key-${i % 4}`, virtual_key: i % 6 === 0 ? null : `vk-${i % 2}`,
      config_id: i % 3 === 0 ? 'cfg-a' : null, config_version: i % 3 === 0 ? 2 : null, prompt_id: null, prompt_version: null,
      provider, model, endpoint: 'chatComplete', method: 'POST', stream: i % 2 === 0, status, success: status === 200,
      cache_status: cache[i % 5], retry_count: i % 13 === 0 ? 2 : 0, last_used_option_index: null,
      rescued_by: i % 13 === 0 ? 'retry' : i % 19 === 0 ? 'fallback' : null,
      req_units: 10 + (i % 50), res_units: 5 + (i % 30), total_units: 15 + (i % 50) + (i % 30), units_estimated: false, cost: ((i * 37) % 100) / 7,
      currency: 'USD', cost_unknown: false, total_ms: (i * 7919) % 4000, upstream_ms: 0, gateway_ms: 1,
      // Every 50th trace has a second request, of another model, seven requests later.
      trace_id: i % 50 === 7 ? `t-${i - 7}` : `t-${i}`,
      span_id: null, parent_span_id: null, span_name: null, metadata: i % 10 === 0 ? {} : i % 10 === 1 ? { team: 'a', note: 'x'.repeat(300) } : { team: i % 2 ? 'a' : 'b', env: i % 7 < 2 ? 'dev' : 'prod' }, user: i % 9 === 0 ? null : `u-${i % 23}`,
      client_runtime: null, client_runtime_version: null, client_sdk: null, client_sdk_version: null, log_location: null, log_key: null, log_token: null,
    };
  };
  const ingest = async (records: MetricRecord[]) => {
    const res = await fetch(`${t.cp.url}/v1/ingest/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.cp.dataPlaneToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Any;
  };
  const get = async (path: string, query: Record<string, string>) => {
    const res = await t.api(`/v1/analytics/${path}?${new URLSearchParams(query)}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Any;
  };
  let batch: MetricRecord[];
  /** Every feedback posted (with its latest value), to check the feedback graphs against. */
  const given = new Map<string, { trace: string; value: number; weight: number }>();
  const giveFeedback = async (trace: string, value: number, weight: number) => {
    const res = await t.api('/v1/feedback', { method: 'POST', json: { trace_id: trace, value, weight } });
    expect(res.status).toBeLessThan(300);
    const id = ((await res.json()) as Any).feedback_ids[0] as string;
    given.set(id, { trace, value, weight });
    return id;
  };
  const updateFeedback = async (id: string, value: number, weight: number) => {
    expect((await t.api(`/v1/feedback/${id}`, { method: 'PUT', json: { value, weight } })).status).toBe(200);
    given.set(id, { ...given.get(id)!, value, weight });
  };

  /** Rolls up until every row is in; another database's open transaction on the shared server can hold the xmin back briefly. */
  const rollUpAll = async () => {
    for (let i = 0; i < 100; i++) {
      await rollUpMetrics(t.cp.db);
      const { rows } = await t.cp.db.query<{ n: number }>('SELECT count(*)::int AS n FROM request_metrics WHERE ingest_xid >= (SELECT rolled_to FROM metric_rollup_state)');
      if (rows[0].n === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('rows stayed pending');
  };
  const hourlyTotal = async () => (await t.cp.db.query<{ n: number }>('SELECT coalesce(sum(requests), 0)::int AS n FROM request_metrics_hourly')).rows[0].n;
  const previousInterval = process.env.TOLLGATE_METRICS_ROLLUP_MS;

  beforeAll(async () => {
    // Only the first ingest request of this process rolls up (the interval starts at zero).
    process.env.TOLLGATE_METRICS_ROLLUP_MS = '3600000';
    t = await startOn(engine);
    batch = Array.from({ length: 1800 }, (_, i) => record(i));
    // Feedback before its requests arrive (on the traces with two requests), and on a trace that never does.
    for (let i = 0; i < 1800; i += 50) await giveFeedback(`t-${i}`, (i % 19) - 9, 1);
    await giveFeedback('t-never', 7, 1);
    // Three batches, the middle one twice and the last overlapping it: a retried record must not
    // count twice in the rollups either.
    await ingest(batch.slice(0, 600));
    await ingest(batch.slice(600, 1200));
    expect((await ingest(batch.slice(600, 1200))).inserted).toBe(0);
    // Half old, half new: the new rows go in, the old ones are skipped.
    expect((await ingest(batch.slice(1100))).inserted).toBe(600);
    // Feedback on some traces (two on a few), for the groups' feedback columns.
    for (let i = 0; i < 1800; i += 37) {
      const id = await giveFeedback(`t-${i}`, (i % 21) - 10, (1 + (i % 3)) / 3);
      if (i % 5 === 0) await giveFeedback(`t-${i}`, 3, 0.5);
      if (i % 3 === 1) await updateFeedback(id, 10 - (i % 7), 0.25);
    }
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    if (previousInterval === undefined) delete process.env.TOLLGATE_METRICS_ROLLUP_MS;
    else process.env.TOLLGATE_METRICS_ROLLUP_MS = previousInterval;
  });

  const range = {
    time_of_generation_min: new Date(start + 2.5 * hour).toISOString(),
    time_of_generation_max: new Date(start + 44.25 * hour).toISOString(),
  };
  const filters: Record<string, string>[] = [
    {},
    { granularity: 'day' },
    { ai_org_model: 'openai__gpt-4o-mini,claude-3-5-haiku-latest' },
    { status_code: '200,500', cache_status: 'hit' },
    { api_key_ids: 'key-1,key-2', virtual_keys: 'vk-1' },
    { configs: 'cfg-a', success: 'true' },
    { workspace_slug: 'default', provider: 'openai' },
    // One metadata pair reads the metadata rollups (migration 67), alone or with other rollup filters.
    { metadata: JSON.stringify({ team: 'a' }) },
    { metadata: JSON.stringify({ env: 'dev' }), ai_org_model: 'gpt-4o', status_code: '200,500' },
    { metadata: JSON.stringify({ team: 'b' }), api_key_ids: 'key-0,key-3', cache_status: 'hit' },
    // Two pairs from the rollups keyed by the whole metadata object (migration 69); a long value from the pair rollups by its hash.
    { metadata: JSON.stringify({ team: 'a', env: 'prod' }) },
    { metadata: JSON.stringify({ note: 'x'.repeat(300) }) },
  ];
  const exact = ['requests', 'cost', 'tokens', 'errors', 'errors-rate', 'errors-stack', 'errors-status-code', 'requests-rescued', 'cache-hit-rate', 'cache-latency', 'users', 'users-requests'];

  /** Floats summed in another order differ in the last bits: round before comparing. */
  const rounded = (v: unknown): unknown =>
    typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : Array.isArray(v) ? v.map(rounded) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rounded(x)])) : v;

  // Over 48 hours, so a whole UTC day is always inside: day and week buckets read the daily rollups.
  const longRange = {
    time_of_generation_min: new Date(start + 0.25 * hour).toISOString(),
    time_of_generation_max: new Date(start + 48.4 * hour).toISOString(),
  };
  const longFilters: Record<string, string>[] = [
    {}, { granularity: 'week', ai_org_model: 'gpt-4o' }, { granularity: 'day', status_code: '500' },
    { metadata: JSON.stringify({ env: 'prod' }) }, { granularity: 'week', metadata: JSON.stringify({ team: 'b' }), provider: 'openai' },
    { metadata: JSON.stringify({ team: 'a', env: 'dev' }), ai_org_model: 'gpt-4o-mini' },
  ];

  const compareExact = async (filter: Record<string, string>, over = range) => {
    const q = { ...over, ...filter };
    const all = await get('graphs/requests', q);
    expect(all.summary.total).toBeGreaterThan(0);
    for (const name of exact) {
      const [fromRollups, fromRaw] = await Promise.all([get(`graphs/${name}`, q), get(`graphs/${name}`, { ...q, latency_min: '0' })]);
      expect(rounded(fromRollups), name).toEqual(rounded(fromRaw));
    }
    const [cacheRollup, cacheRaw] = await Promise.all([get('summary/cache', q), get('summary/cache', { ...q, latency_min: '0' })]);
    expect(rounded(cacheRollup), JSON.stringify([cacheRollup, cacheRaw])).toEqual(rounded(cacheRaw));
  };

  it.each(filters)('graphs and the cache summary equal the raw-row answers, most rows still pending (%o)', (f) => compareExact(f));
  it.each(longFilters)('over whole days too (%o)', (f) => compareExact(f, longRange));

  it.each(filters)('latency: averages equal, percentiles within one histogram bucket (%o)', async (filter) => {
    const q = { ...range, ...filter };
    const [fromRollups, fromRaw] = await Promise.all([get('graphs/latency', q), get('graphs/latency', { ...q, latency_min: '0' })]);
    expect(fromRollups.data_points.length).toBe(fromRaw.data_points.length);
    const pairs = [[fromRollups.summary, fromRaw.summary], ...fromRollups.data_points.map((p: Any, i: number) => [p, fromRaw.data_points[i]])];
    for (const [r, raw] of pairs) {
      expect(r.avg).toBeCloseTo(raw.avg, 1);
      for (const k of ['p50', 'p90', 'p95', 'p99']) {
        // One bucket is 20% wide; the estimate interpolates inside it.
        expect(Math.abs(r[k] - raw[k]), `${k}: ${r[k]} vs ${raw[k]}`).toBeLessThanOrEqual(2 + raw[k] * 0.2);
      }
    }
    expect(fromRollups.summary.p50).toBeGreaterThan(0);
  });

  // Groups: everything but p95/p99 equals the raw answer; those within one histogram bucket.
  const groups: [string, Record<string, string>][] = [
    ['ai-models', {}], ['ai-models', { metadata: JSON.stringify({ team: 'a' }) }], ['status_code', { provider: 'openai' }], ['api_key', { page_size: '2', current_page: '1' }],
    ['metadata/team', {}], ['metadata/env', { ai_org_model: 'gpt-4o' }], ['metadata/note', {}], ['virtual_key', { metadata: JSON.stringify({ env: 'dev' }) }],
    // A metadata group under one or two metadata pairs, and a plain group under two: the metadata-object rollups.
    ['metadata/env', { metadata: JSON.stringify({ team: 'a' }) }], ['metadata/team', { metadata: JSON.stringify({ env: 'prod', team: 'b' }), provider: 'openai' }],
    ['ai-models', { metadata: JSON.stringify({ team: 'a', env: 'prod' }) }],
  ];
  const compareGroups = async (path: string, filter: Record<string, string>, over: Record<string, string>, withFeedback = true) => {
    const q = { ...over, ...filter };
    const [fromRollups, fromRaw] = await Promise.all([get(`groups/${path}`, q), get(`groups/${path}`, { ...q, latency_min: '0' })]);
    expect(fromRaw.data.length, path).toBeGreaterThan(0);
    const strip = (r: Any) => rounded({ ...r, data: r.data.map(({ p95_latency, p99_latency, ...rest }: Any) => rest) });
    expect(strip(fromRollups), path).toEqual(strip(fromRaw));
    for (const [i, g] of fromRollups.data.entries()) {
      for (const k of ['p95_latency', 'p99_latency']) expect(Math.abs(g[k] - fromRaw.data[i][k]), k).toBeLessThanOrEqual(2 + fromRaw.data[i][k] * 0.2);
    }
    // (The second page of API keys may hold no trace with feedback.)
    if (path !== 'api_key') expect(fromRaw.data.some((g: Any) => g.requests_with_feedback > 0), `${path}: some feedback`).toBe(withFeedback);
  };
  // Groups count feedback given in the range (as the feedback graphs do): it was given just now.
  const toNow = () => ({ time_of_generation_min: range.time_of_generation_min, time_of_generation_max: new Date().toISOString() });
  it.each(groups)('groups equal the raw-row answers (%s %o)', async (path, filter) => {
    await compareGroups(path, filter, toNow());
    await compareGroups(path, filter, longRange, false);
  });

  // Feedback graphs: under request filters (from the links of migration 68, some still pending) they
  // equal the direct lookups in request_metrics that a raw-only filter (latency_min=0) still makes.
  const feedbackPaths = ['feedbacks', 'feedbacks/weighted', 'feedbacks/scores', 'feedbacks/ai-models'];
  const compareFeedback = async (filter: Record<string, string>) => {
    const q = { ...toNow(), ...filter };
    const requestFiltered = Object.keys(filter).some((k) => k !== 'granularity');
    for (const path of feedbackPaths) {
      // Unfiltered graphs count feedback without a request; `latency_min` asks for a request.
      if (!requestFiltered && path !== 'feedbacks/ai-models') continue;
      const [fromLinks, fromRaw] = await Promise.all([get(`graphs/${path}`, q), get(`graphs/${path}`, { ...q, latency_min: '0' })]);
      expect(rounded(fromLinks), `${path} ${JSON.stringify(filter)}`).toEqual(rounded(fromRaw));
    }
  };
  /** The feedback graphs against what was posted, computed here from the records. */
  const expectFeedback = async () => {
    const byTrace = new Map<string, MetricRecord[]>();
    for (const r of batch) byTrace.set(r.trace_id!, [...(byTrace.get(r.trace_id!) ?? []), r]);
    const all = [...given.values()];
    const weighted = (list: typeof all) => list.reduce((n, f) => n + f.value * f.weight, 0) / list.reduce((n, f) => n + f.weight, 0);
    const total = await get('graphs/feedbacks', toNow());
    expect(total.summary.total).toBe(all.length);
    const gpt4o = all.filter((f) => byTrace.get(f.trace)?.some((r) => r.model === 'gpt-4o'));
    expect(gpt4o.length).toBeGreaterThan(0);
    const q = { ...toNow(), ai_org_model: 'gpt-4o' };
    expect((await get('graphs/feedbacks', q)).summary.total).toBe(gpt4o.length);
    expect((await get('graphs/feedbacks/weighted', q)).summary.avg).toBeCloseTo(weighted(gpt4o), 3);
    // By model: the model of the trace's latest request; feedback without a request is left out.
    const latest = (trace: string) => byTrace.get(trace)?.reduce((a, b) => (b.created_at > a.created_at ? b : a)).model;
    const expected = new Map<string, number>();
    for (const f of all) {
      const m = latest(f.trace);
      if (m) expected.set(m, (expected.get(m) ?? 0) + 1);
    }
    const byModel = await get('graphs/feedbacks/ai-models', toNow());
    expect(new Map(byModel.data_points.map((p: Any) => [p.ai_model, p.total]))).toEqual(expected);
  };
  const feedbackFilters = filters;
  it('feedback graphs count what was posted (some feedback before its requests, two requests on some traces, updates)', expectFeedback);
  it.each(feedbackFilters)('feedback graphs under request filters equal the direct lookups, most pairs still pending (%o)', compareFeedback);

  const logTotal = async (q: Record<string, string>) => {
    const res = await t.api(`/v1/logs?${new URLSearchParams({ ...range, ...q, page_size: '1' })}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as Any).total as number;
  };
  const compareLogTotal = async (filter: Record<string, string>) => {
    const fromRollups = await logTotal(filter);
    expect(fromRollups).toBeGreaterThan(0);
    expect(fromRollups).toBe(await logTotal({ ...filter, latency_min: '0' }));
  };
  it.each(filters)('the log list total equals the raw count (%o)', compareLogTotal);

  it('rows wait past the watermark until the roll-up folds them in', async () => {
    expect(await hourlyTotal()).toBeLessThanOrEqual(600);
    await rollUpAll();
    expect(await hourlyTotal()).toBe(1800);
    const daily = await t.cp.db.query<{ n: number; users: number }>(
      'SELECT (SELECT sum(requests)::int FROM request_metrics_daily) AS n, (SELECT count(*)::int FROM request_metrics_daily_users) AS users',
    );
    expect(daily.rows[0]).toEqual({ n: 1800, users: expect.any(Number) });
    const objects = await t.cp.db.query<{ hourly: number; daily: number }>(
      'SELECT (SELECT sum(requests)::int FROM request_metrics_hourly_metaobj) AS hourly, (SELECT sum(requests)::int FROM request_metrics_daily_metaobj) AS daily',
    );
    expect(objects.rows[0]).toEqual({ hourly: 1800, daily: 1800 });
    expect(daily.rows[0].users).toBeGreaterThan(0);
    // Every request is in the metadata rollups once per pair.
    const meta = await t.cp.db.query<{ k: string; v: string; hourly: number; daily: number }>(
      `SELECT meta_key AS k, meta_value AS v, sum(requests)::int AS hourly, (SELECT sum(requests)::int FROM request_metrics_daily_meta d WHERE d.meta_key = h.meta_key AND d.meta_value = h.meta_value) AS daily
       FROM request_metrics_hourly_meta h GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const count = (k: string, v: string) => batch.filter((r) => (r.metadata as Record<string, string>)[k] === v).length;
    expect(meta.rows).toEqual(
      [['env', 'dev'], ['env', 'prod'], ['note', 'x'.repeat(300)], ['team', 'a'], ['team', 'b']].map(([k, v]) => ({ k, v, hourly: count(k, v), daily: count(k, v) })),
    );
  });

  it('after a full roll-up (and a retried batch that was already rolled up) the answers still equal the raw ones', async () => {
    await rollUpAll();
    expect((await ingest(batch.slice(0, 600))).inserted).toBe(0);
    await rollUpAll();
    expect(await hourlyTotal()).toBe(1800);
    for (const filter of filters) await compareExact(filter);
    for (const filter of filters) await compareLogTotal(filter);
    for (const filter of longFilters) await compareExact(filter, longRange);
    for (const [path, filter] of groups) await compareGroups(path, filter, toNow());
    const { rows } = await t.cp.db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback_requests');
    expect(rows[0].n).toBeGreaterThan(0);
    await expectFeedback();
    for (const filter of feedbackFilters) await compareFeedback(filter);
    // A feedback updated after its trace was linked counts with its new value.
    const [id] = [...given.keys()];
    await updateFeedback(id, -10, 1);
    await expectFeedback();
    await compareFeedback({ ai_org_model: 'gpt-4o' });
  }, 120_000);

  it('user sets hold exactly the distinct users of their rollup rows, also when a later roll-up adds users to a row', async () => {
    // Two more requests with the keys and hour of one already rolled up: one new user, one known.
    const late = [{ ...batch[200], id: randomUUID(), user: 'u-late' }, { ...batch[200], id: randomUUID(), user: batch[201].user }];
    expect((await ingest(late)).inserted).toBe(2);
    await rollUpAll();
    const dims = ROLLUP_DIMENSIONS.join(', ');
    const pairs = `(SELECT r.*, kv.key AS meta_key, kv.value #>> '{}' AS meta_value FROM request_metrics r, jsonb_each(r.metadata) kv) p`;
    const cases: [string, string, string][] = [
      ['request_metrics_hourly_user_sets', `hour, ${dims}`, `date_trunc('hour', created_at, 'UTC'), ${dims} FROM request_metrics`],
      ['request_metrics_daily_user_sets', `day, ${dims}`, `date_trunc('day', created_at, 'UTC'), ${dims} FROM request_metrics`],
      ['request_metrics_hourly_meta_user_sets', 'hour, meta_key, meta_value, workspace_id', `date_trunc('hour', created_at, 'UTC'), meta_key, meta_value, workspace_id FROM ${pairs}`],
      ['request_metrics_daily_meta_user_sets', 'day, meta_key, meta_value, workspace_id', `date_trunc('day', created_at, 'UTC'), meta_key, meta_value, workspace_id FROM ${pairs}`],
    ];
    for (const [table, keys, raw] of cases) {
      const { rows } = await t.cp.db.query<{ stored: number; expected: number; differ: number }>(
        `WITH stored AS (SELECT ${keys}, u FROM ${table}, unnest(users) u),
              expected AS (SELECT DISTINCT ${raw.replace(' FROM ', ', end_user FROM ')} WHERE end_user IS NOT NULL)
         SELECT (SELECT count(*) FROM stored)::int AS stored, (SELECT count(*) FROM expected)::int AS expected,
           (SELECT count(*) FROM ((SELECT * FROM stored EXCEPT SELECT * FROM expected) UNION ALL (SELECT * FROM expected EXCEPT SELECT * FROM stored)) d)::int AS differ`,
      );
      expect(rows[0].stored, table).toBe(rows[0].expected);
      expect(rows[0].differ, table).toBe(0);
    }
    await compareExact({ ai_org_model: batch[200].model! });
    await compareExact({ metadata: JSON.stringify({ env: 'prod' }), api_key_ids: batch[200].api_key_id! }, longRange);
  });

  it('a range inside one hour reads raw rows and still answers', async () => {
    const q = { time_of_generation_min: new Date(start + 3.1 * hour).toISOString(), time_of_generation_max: new Date(start + 3.6 * hour).toISOString() };
    const expected = batch.filter((r) => r.created_at >= q.time_of_generation_min && r.created_at <= q.time_of_generation_max).length;
    expect((await get('graphs/requests', q)).summary.total).toBe(expected);
  });
});
