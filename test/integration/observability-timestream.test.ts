import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timestreamMetricsStore } from '../../runtime/adapters/timestream-metrics.js';
import type { MetricRecord, MetricsStore } from '../../runtime/core/metrics.js';
import { startFakeTimestream, type FakeTimestream } from '../support/fake-timestream.js';
import { startObsHarness, waitFor } from '../support/observability.js';

const CLIENT = { region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } };

function record(i: number): MetricRecord {
  return {
    id: randomUUID(), created_at: new Date(Date.now() - i * 1000).toISOString(), organisation_id: 'org-1', workspace_id: 'ws-1', api_key_id: 'key-1',
    virtual_key: 'vk', config_id: null, config_version: null, prompt_id: null, prompt_version: null, provider: 'openai', model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini',
    endpoint: 'chatComplete', method: 'POST', stream: false, status: 200, success: true, cache_status: 'DISABLED', retry_count: 0, last_used_option_index: null,
    rescued_by: null, req_units: 3, res_units: 3, total_units: 6, units_estimated: false, cost: 0.000225, currency: 'USD', cost_unknown: false, total_ms: 12,
    upstream_ms: 10, gateway_ms: 2, trace_id: `t-${i}`, span_id: null, parent_span_id: null, span_name: null, metadata: { team: 'search' }, user: null,
    client_runtime: null, client_runtime_version: null, client_sdk: null, client_sdk_version: null, log_location: null, log_key: null, log_token: null,
  };
}

describe('observability: Timestream metrics store (opt-in) against a local fake of its wire protocol', () => {
  let fake: FakeTimestream;
  let store: MetricsStore;
  beforeAll(async () => {
    fake = await startFakeTimestream();
    store = timestreamMetricsStore({ database: 'tollgate', table: 'requests', client: CLIENT, discoveryEndpoint: fake.url });
  });
  afterAll(async () => {
    await store?.close();
    await fake?.close();
  });

  it('discovers the endpoint, writes in chunks of 100, and a retried batch adds nothing', async () => {
    const batch = Array.from({ length: 150 }, (_, i) => record(i));
    await store.write(batch);
    await store.write(batch); // the gateway retried: same ids, same times, same measures
    expect(fake.records.get('tollgate/requests')).toHaveLength(150);
    const targets = fake.calls.map((c) => c.target);
    expect(targets.filter((t) => t.endsWith('.DescribeEndpoints'))).toHaveLength(1);
    expect(targets.filter((t) => t.endsWith('.WriteRecords'))).toHaveLength(4);
    expect(fake.calls.every((c) => c.contentType === 'application/x-amz-json-1.0' && c.signed)).toBe(true);
    const first = fake.records.get('tollgate/requests')![0] as { Dimensions: { Name: string; Value: string }[]; MeasureName: string };
    expect(first.MeasureName).toBe('request');
    expect(first.Dimensions).toEqual(expect.arrayContaining([{ Name: 'model', Value: 'gpt-4o-mini' }, { Name: 'md_team', Value: 'search' }]));
  });

  it('the control plane writes ingested gateway metrics to it next to Postgres', async () => {
    const sink = await startFakeTimestream();
    const ts = timestreamMetricsStore({ database: 'cp', table: 'requests', client: CLIENT, discoveryEndpoint: sink.url });
    const h = await startObsHarness({ controlPlane: { metricsStore: ts } });
    try {
      const client = h.openai({ 'x-portkey-virtual-key': h.slugs.primary });
      for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      await waitFor(async () => (sink.records.get('cp/requests')?.length ?? 0) === 3, '3 records in Timestream');
      const pg = (await h.cp.db.query<{ n: number }>('SELECT count(*)::int AS n FROM request_metrics')).rows[0].n;
      expect(pg).toBe(3);
    } finally {
      await h.close();
      await ts.close();
      await sink.close();
    }
  });
});
