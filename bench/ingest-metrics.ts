/**
 * Ingestion throughput: metric records/s through the real path (HTTP `POST /v1/ingest/metrics`
 * with the data-plane token → middy handler → one `unnest` INSERT per batch, RLS on).
 *   DATABASE_URL=postgres://... node ./bin/run-ts.mjs bench/ingest-metrics.ts   (PGlite in memory without it)
 *   env: RECORDS (default 200000), BATCH (1000), CONCURRENCY (4)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { silentLogger } from '../runtime/core/logger.js';
import type { MetricRecord } from '../runtime/core/metrics.js';
import { startControlPlane } from '../runtime/control-plane/server.js';

const TOTAL = Number(process.env.RECORDS ?? 200_000);
const BATCH = Number(process.env.BATCH ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);

const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-ingest-'));
const cp = await startControlPlane({
  port: 0,
  databaseUrl: process.env.DATABASE_URL,
  keyring: await localKeyring(join(dir, 'keyring.json')),
  logger: silentLogger,
  maxBodyBytes: 16 * 1024 * 1024,
});
const models = ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku-latest', 'text-embedding-3-small'];
const base = Date.now() - 7 * 86_400_000;
const record = (i: number): MetricRecord => ({
  id: randomUUID(), created_at: new Date(base + i * 3000).toISOString(), organisation_id: cp.organisationId, workspace_id: cp.defaultWorkspaceId,
  api_key_id: 'key-bench', virtual_key: 'vk-bench', config_id: null, config_version: null, prompt_id: null, prompt_version: null,
  provider: i % 4 === 2 ? 'anthropic' : 'openai', model: models[i % 4], endpoint: 'chatComplete', method: 'POST', stream: i % 3 === 0,
  status: i % 50 === 0 ? 429 : 200, success: i % 50 !== 0, cache_status: 'DISABLED', retry_count: 0, last_used_option_index: null, rescued_by: null,
  req_units: 100 + (i % 400), res_units: 50 + (i % 200), total_units: 150 + (i % 400) + (i % 200), units_estimated: false, cost: 0.01 * (i % 7),
  currency: 'USD', cost_unknown: false, total_ms: 200 + (i % 900), upstream_ms: 190 + (i % 900), gateway_ms: 10, trace_id: `trace-${i}`,
  span_id: null, parent_span_id: null, span_name: null, metadata: { team: ['search', 'ads', 'chat'][i % 3], env: 'prod' }, user: `user-${i % 1000}`,
  client_runtime: 'node', client_runtime_version: 'v20', client_sdk: 'openai/js', client_sdk_version: '6.0.0', log_location: null, log_key: null, log_token: null,
});

let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < TOTAL) {
      const from = next;
      next += BATCH;
      const records = Array.from({ length: Math.min(BATCH, TOTAL - from) }, (_, k) => record(from + k));
      const res = await fetch(`${cp.url}/v1/ingest/metrics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cp.dataPlaneToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ records }),
      });
      if (!res.ok) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
const { rows } = await cp.db.query<{ n: number }>('SELECT count(*)::int AS n FROM request_metrics');
console.log(JSON.stringify({ engine: process.env.DATABASE_URL ? 'postgres' : 'pglite', records: rows[0].n, batch: BATCH, concurrency: CONCURRENCY, seconds: Math.round(seconds * 100) / 100, records_per_second: Math.round(TOTAL / seconds) }));
await cp.close();
await rm(dir, { recursive: true, force: true });
