import { Portkey } from 'portkey-ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObsHarness, waitFor, type ObsHarness } from '../support/observability.js';

type Log = Record<string, any>;

/**
 * Metric records from real SDK traffic: the gateway builds one per request off the response path,
 * batches them to the control plane's ingestion, and the log search API shows them.
 */
describe('observability: metric records', () => {
  let h: ObsHarness;
  const logs = async (query = ''): Promise<Log[]> => {
    const res = await h.api(`/v1/logs?page_size=500${query}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: Log[] }).data;
  };
  const byTrace = (trace: string) => waitFor(async () => (await logs(`&trace_id=${trace}`))[0], `the record of ${trace}`);

  beforeAll(async () => {
    h = await startObsHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('records a chat completion with ids, usage, cost, timings, metadata and the client SDK', async () => {
    const client = h.openai({
      'x-portkey-virtual-key': h.slugs.primary,
      'x-portkey-trace-id': 'trace-chat-1',
      'x-portkey-span-id': 'span-1',
      'x-portkey-parent-span-id': 'span-0',
      'x-portkey-metadata': JSON.stringify({ _user: 'alice', env: 'prod', team: 'search' }),
    });
    const reply = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one two three' }] });
    expect(reply.choices[0].message.content).toBe('Hello from primary');

    const r = await byTrace('trace-chat-1');
    expect(r).toMatchObject({
      organisation_id: h.cp.organisationId,
      workspace_id: h.cp.defaultWorkspaceId,
      virtual_key: h.slugs.primary,
      provider: 'openai',
      model: 'gpt-4o-mini',
      endpoint: 'chatComplete',
      stream: false,
      status: 200,
      success: true,
      cache_status: 'DISABLED',
      retry_count: 0,
      // the mock counts whitespace words: 3 prompt tokens, "Hello from primary" = 3
      req_units: 3,
      res_units: 3,
      total_units: 6,
      units_estimated: false,
      currency: 'USD',
      cost_unknown: false,
      trace_id: 'trace-chat-1',
      span_id: 'span-1',
      parent_span_id: 'span-0',
      metadata: { _user: 'alice', env: 'prod', team: 'search' },
      user: 'alice',
      client_sdk: 'openai/js',
      client_runtime: 'node',
      log_location: 'customer',
      has_body: true,
    });
    expect(r.api_key_id).toMatch(/.+/);
    // gpt-4o-mini built-in price: $0.15 in / $0.60 out per 1M tokens → cents
    expect(r.cost).toBeCloseTo((3 * 0.15 + 3 * 0.6) / 1e6 * 100, 8);
    expect(r.client_sdk_version).toMatch(/^\d+\.\d+/);
    expect(r.total_ms).toBeGreaterThanOrEqual(r.upstream_ms);
    expect(r.total_ms).toBe(r.upstream_ms + r.gateway_ms);
    expect(r).not.toHaveProperty('log_token');
  });

  it('records a stream from its final usage chunk', async () => {
    const client = h.openai({ 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-trace-id': 'trace-stream-usage' });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'count to five please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello from primary');
    const r = await byTrace('trace-stream-usage');
    expect(r).toMatchObject({ stream: true, req_units: 4, res_units: 3, total_units: 7, units_estimated: false, model: 'gpt-4o' });
    expect(r.cost).toBeCloseTo((4 * 2.5 + 3 * 10) / 1e6 * 100, 8);

    const bare = h.openai({ 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-trace-id': 'trace-stream-estimate' });
    const s2 = await bare.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'abcdefgh' }], stream: true });
    for await (const _ of s2) void _;
    const e = await byTrace('trace-stream-estimate');
    // The gateway asks the provider for usage on every stream, so even a caller that did not gets real counts.
    expect(e).toMatchObject({ stream: true, units_estimated: false, req_units: 1, res_units: 3, total_units: 4 });
  });

  it('records the Anthropic translation, embeddings, and a fallback that rescued a request', async () => {
    const claude = h.openai({ 'x-portkey-virtual-key': h.slugs.claude, 'x-portkey-trace-id': 'trace-claude' });
    await claude.chat.completions.create({ model: 'claude-3-5-haiku-latest', max_tokens: 50, messages: [{ role: 'user', content: 'hi there' }] });
    const c = await byTrace('trace-claude');
    expect(c).toMatchObject({ provider: 'anthropic', model: 'claude-3-5-haiku-latest', units_estimated: false, cost_unknown: false });
    expect(c.req_units).toBeGreaterThan(0);

    const emb = h.openai({ 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-trace-id': 'trace-embed' });
    await emb.embeddings.create({ model: 'text-embedding-3-small', input: 'hello world' });
    expect(await byTrace('trace-embed')).toMatchObject({ endpoint: 'embed', req_units: 2, res_units: 0, total_units: 2 });

    h.primary.control.fail(503, 1);
    const fb = h.openai({ 'x-portkey-config': h.slugs.config, 'x-portkey-trace-id': 'trace-fallback' });
    const answer = await fb.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0].message.content).toBe('Hello from backup');
    expect(await byTrace('trace-fallback')).toMatchObject({
      config_id: h.configId,
      config_version: 1,
      virtual_key: h.slugs.backup,
      last_used_option_index: 'config.targets[1]',
      rescued_by: 'fallback',
      success: true,
    });
  });

  it('records the cache status the caller was sent: MISS, then HIT for the same request', async () => {
    const config = JSON.stringify({ virtual_key: h.slugs.primary, cache: { mode: 'simple', max_age: 60 } });
    const messages = [{ role: 'user' as const, content: 'cache me please' }];
    const statuses: (string | null)[] = [];
    for (const trace of ['trace-cache-1', 'trace-cache-2']) {
      const { response } = await h.openai({ 'x-portkey-config': config, 'x-portkey-trace-id': trace }).chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
      statuses.push(response.headers.get('x-portkey-cache-status'));
    }
    expect(statuses).toEqual(['MISS', 'HIT']);
    expect(await byTrace('trace-cache-1')).toMatchObject({ cache_status: 'MISS', last_used_option_index: 'config' });
    expect(await byTrace('trace-cache-2')).toMatchObject({ cache_status: 'HIT', last_used_option_index: 'config' });
  });

  it('records upstream errors and the portkey-ai SDK as the client', async () => {
    h.primary.control.fail(429, 1);
    const client = h.openai({ 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-trace-id': 'trace-429' });
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow();
    expect(await byTrace('trace-429')).toMatchObject({ status: 429, success: false, total_units: 0, cost: 0 });

    const portkey = new Portkey({ baseURL: `${h.gateway.url}/v1`, apiKey: h.cp.adminApiKey, virtualKey: h.slugs.primary, traceID: 'trace-portkey-sdk' });
    await portkey.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    const r = await byTrace('trace-portkey-sdk');
    expect(r.client_sdk).toMatch(/^portkey/);
    expect(r.client_runtime).toBe('node');
  });

  it('never double-counts: a batch sent twice inserts once', async () => {
    const before = await logs();
    const record = before.find((l) => l.trace_id === 'trace-chat-1')!;
    const raw = await h.cp.db.query<Record<string, unknown>>('SELECT * FROM request_metrics WHERE id = $1', [record.id]);
    const row = raw.rows[0];
    const replay = {
      records: [
        {
          ...Object.fromEntries(Object.entries(row).filter(([k]) => !['ingested_at', 'source_id', 'end_user'].includes(k))),
          user: row.end_user,
          created_at: new Date(row.created_at as string).toISOString(),
        },
      ],
    };
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${h.cp.url}/v1/ingest/metrics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.cp.dataPlaneToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(replay),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ accepted: 1, inserted: 0 });
    }
    expect((await logs()).length).toBe(before.length);

    const bad = await fetch(`${h.cp.url}/v1/ingest/metrics`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-credential', 'content-type': 'application/json' },
      body: JSON.stringify(replay),
    });
    expect(bad.status).toBe(401);
    const foreign = await fetch(`${h.cp.url}/v1/ingest/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.cp.dataPlaneToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: [{ ...replay.records[0], organisation_id: 'org-somebody-else' }] }),
    });
    expect(foreign.status).toBe(403);
  });

  it('keeps secrets out of records, logs and log lines', async () => {
    const all = JSON.stringify(await logs());
    const rows = JSON.stringify((await h.cp.db.query('SELECT * FROM request_metrics')).rows);
    for (const text of [all, rows, h.gatewayLogLines.join('\n')]) {
      for (const secret of [h.cp.adminApiKey, h.cp.dataPlaneToken, 'sk-obs-']) expect(text).not.toContain(secret);
    }
  });
});
