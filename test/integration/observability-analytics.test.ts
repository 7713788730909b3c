import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObsHarness, waitFor, type ObsHarness } from '../support/observability.js';

type Any = Record<string, any>;

/**
 * Analytics, log search and feedback through the unmodified portkey-ai SDK, after known traffic
 * through the gateway: the numbers are computed from what was sent.
 */
describe('observability: analytics, log search and feedback (portkey-ai SDK)', () => {
  let h: ObsHarness;
  const range = () => ({
    time_of_generation_min: new Date(Date.now() - 3600_000).toISOString(),
    time_of_generation_max: new Date(Date.now() + 60_000).toISOString(),
  });

  beforeAll(async () => {
    h = await startObsHarness();
    // Known traffic: 6 × gpt-4o-mini ("a b c" = 3 prompt tokens, 3 completion tokens),
    // 4 × gpt-4o ("a b c d e" = 5 + 3), 2 upstream 500s on gpt-4o-mini; metadata team=search|ads.
    const send = async (model: string, content: string, team: string, trace: string) => {
      const client = h.openai({ 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-metadata': JSON.stringify({ team, _user: `user-${team}` }), 'x-portkey-trace-id': trace });
      return client.chat.completions.create({ model, messages: [{ role: 'user', content }] });
    };
    for (let i = 0; i < 6; i++) await send('gpt-4o-mini', 'a b c', 'search', `an-mini-${i}`);
    for (let i = 0; i < 4; i++) await send('gpt-4o', 'a b c d e', 'ads', `an-4o-${i}`);
    h.primary.control.fail(500, 2);
    for (let i = 0; i < 2; i++) await send('gpt-4o-mini', 'a b c', 'search', `an-err-${i}`).catch(() => undefined);
    await waitFor(async () => {
      const r = (await h.admin.analytics.graphs.requests(range())) as Any;
      return r.summary.total === 12;
    }, '12 requests in analytics');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('graphs: requests, cost, tokens, latency, errors, error rate, status codes, cache, users', async () => {
    const q = range();
    const requests = (await h.admin.analytics.graphs.requests(q)) as Any;
    expect(requests.object).toBe('analytics-graph');
    expect(requests.summary.total).toBe(12);
    expect(requests.data_points.reduce((n: number, p: Any) => n + p.total, 0)).toBe(12);

    const tokens = (await h.admin.analytics.graphs.tokens(q)) as Any;
    expect(tokens.summary.total).toBe(6 * 6 + 4 * 8);

    const cost = (await h.admin.analytics.graphs.cost(q)) as Any;
    const expected = ((6 * (3 * 0.15 + 3 * 0.6) + 4 * (5 * 2.5 + 3 * 10)) / 1e6) * 100;
    expect(cost.summary.total).toBeCloseTo(expected, 6);

    const latency = (await h.admin.analytics.graphs.latency(q)) as Any;
    for (const k of ['avg', 'p50', 'p90', 'p99']) expect(latency.summary[k]).toBeGreaterThan(0);
    expect(latency.summary.p99).toBeGreaterThanOrEqual(latency.summary.p50);

    expect(((await h.admin.analytics.graphs.errors(q)) as Any).summary.total).toBe(2);
    expect(((await h.admin.analytics.graphs.errors_rate(q)) as Any).summary.rate).toBeCloseTo((2 / 12) * 100, 1);
    const codes = (await h.admin.analytics.graphs.errors_status_code(q)) as Any;
    expect(codes.data_points).toEqual([{ status_code: 500, count: 2 }]);
    expect(((await h.admin.analytics.graphs.cache_hit_rate(q)) as Any).summary.rate).toBe(0);
    expect(((await h.admin.analytics.graphs.users(q)) as Any).summary.total).toBe(2);
    expect(((await h.admin.analytics.graphs.requests_rescued(q)) as Any).summary).toEqual({ retry: 0, fallback: 0 });

    // The API reference's spelling of the same graph.
    const rate = (await (await h.api(`/v1/analytics/graphs/errors/rate?${new URLSearchParams(q)}`)).json()) as Any;
    expect(rate.summary.rate).toBeCloseTo((2 / 12) * 100, 1);
  });

  it('filters apply to analytics: model, metadata, status, trace id', async () => {
    const q = range();
    expect(((await h.admin.analytics.graphs.requests({ ...q, ai_org_model: 'openai__gpt-4o' })) as Any).summary.total).toBe(4);
    expect(((await h.admin.analytics.graphs.requests({ ...q, metadata: JSON.stringify({ team: 'search' }) })) as Any).summary.total).toBe(8);
    expect(((await h.admin.analytics.graphs.requests({ ...q, status_code: '500' })) as Any).summary.total).toBe(2);
    const byTrace = (await (await h.api(`/v1/analytics/graphs/requests?${new URLSearchParams({ ...q, trace_id: 'an-4o-1,an-4o-2' })}`)).json()) as Any;
    expect(byTrace.summary.total).toBe(2);
  });

  it('groups: top models and metadata values', async () => {
    const q = range();
    const models = (await h.admin.analytics.groups.aiModels(q)) as Any;
    expect(models.object).toBe('list');
    expect(models.data.map((m: Any) => [m.ai_model, m.requests])).toEqual([
      ['gpt-4o-mini', 8],
      ['gpt-4o', 4],
    ]);
    expect(models.data[0].error_count).toBe(2);
    const teams = (await h.admin.analytics.groups.metadata('team', q)) as Any;
    expect(teams.data.map((t: Any) => [t.metadata_value, t.requests])).toEqual([
      ['search', 8],
      ['ads', 4],
    ]);
  });

  it('log search: filters, cost range and server-side pagination; export as JSONL and CSV', async () => {
    const page0 = (await (await h.api('/v1/logs?page_size=5&current_page=0')).json()) as Any;
    const page2 = (await (await h.api('/v1/logs?page_size=5&current_page=2')).json()) as Any;
    expect(page0.total).toBe(12);
    expect(page0.data).toHaveLength(5);
    expect(page2.data).toHaveLength(2);
    const ids = new Set([...page0.data, ...((await (await h.api("/v1/logs?page_size=5&current_page=1")).json()) as Any).data, ...page2.data].map((l: Any) => l.id));
    expect(ids.size).toBe(12);

    const expensive = (await (await h.api(`/v1/logs?cost_min=${(5 * 2.5 + 3 * 10) / 1e6 * 100 - 1e-9}`)).json()) as Any;
    expect(expensive.total).toBe(4);
    const failed = (await (await h.api('/v1/logs?status_code=500')).json()) as Any;
    expect(failed.data.every((l: Any) => l.status === 500 && l.success === false)).toBe(true);
    expect(((await (await h.api(`/v1/logs?metadata=${encodeURIComponent(JSON.stringify({ team: 'ads' }))}`)).json()) as Any).total).toBe(4);
    expect((await h.api('/v1/logs?cost_min=abc')).status).toBe(400);

    const jsonl = await (await h.api('/v1/logs/export?format=jsonl')).text();
    expect(jsonl.trim().split('\n')).toHaveLength(12);
    const csv = await h.api('/v1/logs/export?format=csv&ai_org_model=gpt-4o');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toContain('id,created_at,trace_id');
    expect(lines).toHaveLength(5);
  });

  it('feedback: create and update through the SDK, joined to logs and analytics', async () => {
    const created = (await h.admin.feedback.create({ trace_id: 'an-4o-0', value: 8, weight: 1, metadata: { reviewer: 'bob' } } as never)) as Any;
    expect(created.status).toBe('success');
    const id = created.feedback_ids[0];
    await h.admin.feedback.create({ traceID: 'an-mini-0', value: -4, weight: 0.5 });
    await h.admin.feedback.update({ feedbackID: id, value: 10, weight: 1 });

    const log = await waitFor(async () => {
      const list = (await (await h.api('/v1/logs?trace_id=an-4o-0')).json()) as Any;
      return (await (await h.api(`/v1/logs/${list.data[0].id}`)).json()) as Any;
    }, 'the log');
    expect(log.feedback).toMatchObject([{ id, value: 10, weight: 1, metadata: { reviewer: 'bob' } }]);

    const q = range();
    expect(((await h.admin.analytics.graphs.feedbacks(q)) as Any).summary.total).toBe(2);
    expect(((await h.admin.analytics.graphs.feedbacks_weighted(q)) as Any).summary.avg).toBeCloseTo((10 * 1 + -4 * 0.5) / 1.5, 3);
    const byModel = (await h.admin.analytics.graphs.feedback_ai_models(q)) as Any;
    expect(byModel.data_points.map((p: Any) => [p.ai_model, p.total]).sort()).toEqual([
      ['gpt-4o', 1],
      ['gpt-4o-mini', 1],
    ]);
    // Feedback graphs take the request filters too (joined by trace id).
    expect(((await h.admin.analytics.graphs.feedbacks({ ...q, ai_org_model: 'gpt-4o' })) as Any).summary.total).toBe(1);
    const teams = (await h.admin.analytics.groups.metadata('team', q)) as Any;
    expect(teams.data.find((t: Any) => t.metadata_value === 'ads').avg_weighted_feedback).toBe(10);

    const bad = await h.api('/v1/feedback', { method: 'POST', json: { trace_id: 'x', value: 11 } });
    expect(bad.status).toBe(400);
    expect((await h.api('/v1/feedback/fb-nope', { method: 'PUT', json: { value: 1 } })).status).toBe(404);
  });

  it('needs an API key', async () => {
    expect((await fetch(`${h.cp.url}/v1/analytics/graphs/requests`)).status).toBe(401);
    expect((await fetch(`${h.cp.url}/v1/logs`)).status).toBe(401);
  });
});
