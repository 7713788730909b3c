import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricRecord } from '../../runtime/core/metrics.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

type Any = Record<string, any>;

/**
 * Analytics from the hourly rollups equal analytics from raw rows. Any numeric range filter sends a
 * query to raw rows only, and `latency_min=0` keeps every row, so the same question is asked of
 * both stores. Ranges start and end mid-hour, so the raw edges are part of every rollup answer.
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
      currency: 'USD', cost_unknown: false, total_ms: (i * 7919) % 4000, upstream_ms: 0, gateway_ms: 1, trace_id: `t-${i}`,
      span_id: null, parent_span_id: null, span_name: null, metadata: { team: i % 2 ? 'a' : 'b' }, user: i % 9 === 0 ? null : `u-${i % 23}`,
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

  beforeAll(async () => {
    t = await startOn(engine);
    batch = Array.from({ length: 1800 }, (_, i) => record(i));
    // Three batches, the middle one twice: a retried batch must not count twice in the rollups either.
    await ingest(batch.slice(0, 600));
    await ingest(batch.slice(600, 1200));
    expect((await ingest(batch.slice(600, 1200))).inserted).toBe(0);
    await ingest(batch.slice(1200));
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
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
  ];
  const exact = ['requests', 'cost', 'tokens', 'errors', 'errors-rate', 'errors-stack', 'errors-status-code', 'requests-rescued', 'cache-hit-rate', 'cache-latency', 'users', 'users-requests'];

  /** Floats summed in another order differ in the last bits: round before comparing. */
  const rounded = (v: unknown): unknown =>
    typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : Array.isArray(v) ? v.map(rounded) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rounded(x)])) : v;

  it('the rollups hold every inserted record once', async () => {
    const { rows } = await t.cp.db.query<{ n: number }>('SELECT sum(requests)::int AS n FROM request_metrics_hourly');
    expect(rows[0].n).toBe(1800);
  });

  it.each(filters)('graphs and the cache summary equal the raw-row answers (%o)', async (filter) => {
    const q = { ...range, ...filter };
    const all = await get('graphs/requests', q);
    expect(all.summary.total).toBeGreaterThan(0);
    for (const name of exact) {
      const [fromRollups, fromRaw] = await Promise.all([get(`graphs/${name}`, q), get(`graphs/${name}`, { ...q, latency_min: '0' })]);
      expect(rounded(fromRollups), name).toEqual(rounded(fromRaw));
    }
    const [cacheRollup, cacheRaw] = await Promise.all([get('summary/cache', q), get('summary/cache', { ...q, latency_min: '0' })]);
    expect(rounded(cacheRollup), JSON.stringify([cacheRollup, cacheRaw])).toEqual(rounded(cacheRaw));
  });

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

  it('a range inside one hour reads raw rows and still answers', async () => {
    const q = { time_of_generation_min: new Date(start + 3.1 * hour).toISOString(), time_of_generation_max: new Date(start + 3.6 * hour).toISOString() };
    const expected = batch.filter((r) => r.created_at >= q.time_of_generation_min && r.created_at <= q.time_of_generation_max).length;
    expect((await get('graphs/requests', q)).summary.total).toBe(expected);
  });
});
