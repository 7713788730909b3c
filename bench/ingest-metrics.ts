/**
 * Ingestion throughput: metric records/s through the real path (HTTP `POST /v1/ingest/metrics`
 * with the data-plane token → middy handler → one INSERT per batch, RLS on; the roll-up into the
 * hourly and user rollups runs every TOLLGATE_METRICS_ROLLUP_MS, default 2 s, and once more at the
 * end inside the measured time and CPU), on the real PostgreSQL server and on PGlite.
 *   node ./bin/run-ts.mjs bench/ingest-metrics.ts
 *   env: ENGINE (postgres|pglite|both, default both), DATABASE_URL (else a throwaway cluster is started),
 *        RECORDS (default 100000; PGlite gets a quarter), BATCH (1000), CONCURRENCY (4)
 * Request bodies are serialised before the clock starts, so the node CPU is the control plane's
 * (plus the HTTP client). On a shared machine wall-clock is noisy: CPU ms per 1,000 records
 * (control plane process + PostgreSQL cluster) is the stable figure.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { silentLogger } from '../runtime/core/logger.js';
import type { MetricRecord } from '../runtime/core/metrics.js';
import { rollUpMetrics } from '../runtime/control-plane/analytics/rollup-job.js';
import { startControlPlane } from '../runtime/control-plane/server.js';
import { benchPostgres, type BenchPostgres } from './lib/postgres-server.js';

const TOTAL = Number(process.env.RECORDS ?? 100_000);
const BATCH = Number(process.env.BATCH ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);
const ENGINES = (process.env.ENGINE ?? 'both') === 'both' ? ['postgres', 'pglite'] : [process.env.ENGINE as string];

const models = ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku-latest', 'text-embedding-3-small'];

async function run(engine: string, pg: BenchPostgres | undefined) {
  const total = engine === 'pglite' ? Math.ceil(TOTAL / 4) : TOTAL;
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-ingest-'));
  const cp = await startControlPlane({
    port: 0,
    databaseUrl: pg?.url,
    keyring: await localKeyring(join(dir, 'keyring.json')),
    logger: silentLogger,
    maxBodyBytes: 16 * 1024 * 1024,
  });
  const base = Date.now() - 7 * 86_400_000;
  const record = (i: number): MetricRecord => ({
    id: randomUUID(), created_at: new Date(base + i * 300).toISOString(), organisation_id: cp.organisationId, workspace_id: cp.defaultWorkspaceId,
    api_key_id: `key-${i % 5}`, virtual_key: `vk-${i % 3}`, config_id: null, config_version: null, prompt_id: null, prompt_version: null,
    provider: i % 4 === 2 ? 'anthropic' : 'openai', model: models[i % 4], endpoint: 'chatComplete', method: 'POST', stream: i % 3 === 0,
    status: i % 50 === 0 ? 429 : 200, success: i % 50 !== 0, cache_status: i % 10 === 0 ? 'HIT' : 'MISS', retry_count: 0, last_used_option_index: null, rescued_by: null,
    req_units: 100 + (i % 400), res_units: 50 + (i % 200), total_units: 150 + (i % 400) + (i % 200), units_estimated: false, cost: 0.01 * (i % 7),
    currency: 'USD', cost_unknown: false, total_ms: 200 + ((i * 7919) % 2900), upstream_ms: 190 + (i % 900), gateway_ms: 10, trace_id: `trace-${i}`,
    span_id: null, parent_span_id: null, span_name: null, metadata: { team: ['search', 'ads', 'chat'][i % 3], env: 'prod' }, user: `user-${i % 1000}`,
    client_runtime: 'node', client_runtime_version: 'v20', client_sdk: 'openai/js', client_sdk_version: '6.0.0', log_location: null, log_key: null, log_token: null,
  });
  const bodies: string[] = [];
  for (let from = 0; from < total; from += BATCH) {
    bodies.push(JSON.stringify({ gateway_url: 'http://127.0.0.1:8787', records: Array.from({ length: Math.min(BATCH, total - from) }, (_, k) => record(from + k)) }));
  }
  const send = async (body: string) => {
    const res = await fetch(`${cp.url}/v1/ingest/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cp.dataPlaneToken}`, 'content-type': 'application/json' },
      body,
    });
    if (!res.ok) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  };
  await send(bodies[0]); // warm-up (also exercises the retry path: its records are sent again below)
  const cpu0 = process.cpuUsage();
  const db0 = pg?.cpuSeconds() ?? 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) await send(bodies[next++]);
    }),
  );
  // The rows still past the watermark are part of the work: roll them up before the clock stops.
  const pendingRows = async () =>
    (await cp.db.query<{ n: number }>('SELECT count(*)::int AS n FROM request_metrics WHERE ingest_xid >= (SELECT rolled_to FROM metric_rollup_state)')).rows[0].n;
  const pendingAtEnd = await pendingRows();
  const dbBeforeTail = pg?.cpuSeconds() ?? 0;
  while ((await rollUpMetrics(cp.db)) === null || (await pendingRows()) > 0) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const nodeCpu = (cpu.user + cpu.system) / 1e6;
  const dbCpu = engine === 'postgres' ? (pg?.cpuSeconds() ?? 0) - db0 : 0;
  const { rows } = await cp.db.query<{ n: number; r: number }>(
    'SELECT (SELECT count(*)::int FROM request_metrics) AS n, (SELECT coalesce(sum(requests), 0)::int FROM request_metrics_hourly) AS r',
  );
  if (rows[0].n !== total || rows[0].r !== total) throw new Error(`expected ${total} rows and rollup requests, got ${rows[0].n} / ${rows[0].r}`);
  const perK = (s: number) => Math.round((s / total) * 1000 * 1000 * 10) / 10;
  console.log(
    JSON.stringify({
      engine, records: total, batch: BATCH, concurrency: CONCURRENCY, seconds: Math.round(seconds * 100) / 100,
      records_per_second: Math.round(total / seconds),
      node_cpu_ms_per_1k: perK(nodeCpu),
      postgres_cpu_ms_per_1k: engine === 'postgres' && !Number.isNaN(dbCpu) ? perK(dbCpu) : null,
      records_per_cpu_second: Math.round(total / (nodeCpu + (Number.isNaN(dbCpu) ? 0 : dbCpu))),
      pending_at_end: pendingAtEnd,
      final_rollup_postgres_cpu_ms: engine === 'postgres' ? Math.round(((pg?.cpuSeconds() ?? 0) - dbBeforeTail) * 1000) : null,
    }),
  );
  await cp.close();
  await rm(dir, { recursive: true, force: true });
}

const needsPg = ENGINES.includes('postgres');
const pg = needsPg ? await benchPostgres() : undefined;
try {
  for (const engine of ENGINES) await run(engine, engine === 'postgres' ? pg : undefined);
} finally {
  pg?.stop();
}
