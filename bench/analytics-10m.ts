/**
 * Analytics at scale: ROWS (default 10,000,000) metric rows over 30 days in the real PostgreSQL,
 * then p95 of every analytics graph endpoint over HTTP (the admin API key, RLS on), for the last
 * 24 hours, 7 days and 30 days, plus filtered variants.
 *   node ./bin/run-ts.mjs bench/analytics-10m.ts        (DATABASE_URL, else a throwaway cluster)
 *   env: ROWS, RUNS (samples per endpoint and range, default 10), ONLY (run the variants whose name has this;
 *        `unfiltered` for the first), ONLY_PATHS (comma-separated substrings of the endpoints to run),
 *        BENCH_PGDATA (a directory that keeps the generated cluster: the first run fills it, later
 *        runs start it again and only measure; pending migrations are applied on start)
 * Rows are generated server-side (generate_series) as the ingest would have written them, then the
 * rollups are built with the same SQL the migrations' backfills use and the roll-up watermark is
 * moved past them (as the background roll-up would have), so nothing is left pending.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { silentLogger } from '../runtime/core/logger.js';
import { rollupBackfillStatements } from '../runtime/control-plane/db/schema/063-metric-rollups.js';
import { dailyFromHourlySql } from '../runtime/control-plane/db/schema/065-daily-rollups.js';
import { metadataBackfillStatements } from '../runtime/control-plane/db/schema/067-metadata-rollups.js';
import { feedbackLinkBackfillSql } from '../runtime/control-plane/db/schema/068-feedback-requests.js';
import { USER_SET_TABLES, userSetBackfillStatements } from '../runtime/control-plane/db/schema/069-user-sets.js';
import { METADATA_OBJECT_TABLES, metadataObjectBackfillStatements } from '../runtime/control-plane/db/schema/069-metadata-object-rollups.js';
import { ROLLUP_DIMENSIONS, ROLLUP_MEASURE_COLUMNS } from '../runtime/control-plane/db/schema/063-metric-rollups.js';
import { startControlPlane } from '../runtime/control-plane/server.js';
import { benchPostgres } from './lib/postgres-server.js';

const ROWS = Number(process.env.ROWS ?? 10_000_000);
const RUNS = Number(process.env.RUNS ?? 10);
const DAYS = 30;

const keepDir = process.env.BENCH_PGDATA;
const pg = await benchPostgres({ keepDir });
const dir = keepDir ?? (await mkdtemp(join(tmpdir(), 'tollgate-bench-analytics-')));
// A kept cluster keeps the keys it was bootstrapped with (only their hashes are in the database).
const saved = join(dir, 'bench.json');
const prior = keepDir && !pg.fresh && existsSync(saved) ? (JSON.parse(readFileSync(saved, 'utf8')) as { adminApiKey: string; dataPlaneToken: string; end: number }) : undefined;
const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const startedAt = performance.now();
const cp = await startControlPlane({
  port: 0, databaseUrl: pg.url, keyring: await localKeyring(join(dir, 'keyring.json')), logger: silentLogger,
  adminApiKey: prior?.adminApiKey, dataPlaneToken: prior?.dataPlaneToken,
});
log(`control plane up (migrations applied) in ${Math.round(performance.now() - startedAt)} ms`);

try {
  const end = prior?.end ?? Date.now();
  const spanMs = DAYS * 86_400_000;
  if (!prior) {
    // Indexes (the primary key too) are built once after the load, as a bulk import would, not row by row.
    const secondary = ['request_metrics_time', 'request_metrics_trace', 'request_metrics_metadata', 'request_metrics_ingest_xid'];
    const { rows: defs } = await cp.db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = ANY($1::text[])`, [secondary]);
    for (const name of secondary) await cp.db.query(`DROP INDEX IF EXISTS ${name}`);
    await cp.db.query('ALTER TABLE request_metrics DROP CONSTRAINT request_metrics_pkey');
    const chunk = 1_000_000;
    for (let from = 1; from <= ROWS; from += chunk) {
      const to = Math.min(ROWS, from + chunk - 1);
      // Correlated dimensions, as real traffic is: an API key uses one virtual key and two models.
      await cp.db.query(
        `INSERT INTO request_metrics (organisation_id, id, workspace_id, created_at, api_key_id, virtual_key, config_id, config_version, prompt_id, prompt_version,
           provider, model, endpoint, method, stream, status, success, cache_status, retry_count, last_used_option_index, rescued_by,
           req_units, res_units, total_units, units_estimated, cost, currency, cost_unknown, total_ms, upstream_ms, gateway_ms,
           trace_id, metadata, end_user, client_runtime, client_sdk)
         SELECT $1, 'r' || g, $2, to_timestamp(($3::float8 + (g::float8 / $5) * $4) / 1000),
           'key-' || k, 'vk-' || (k % 5), CASE WHEN k % 4 = 0 THEN NULL ELSE 'cfg-' || (k % 4) END, CASE WHEN k % 4 = 0 THEN NULL ELSE 1 END,
           CASE WHEN k % 7 = 0 THEN 'prompt-' || (k % 3) END, CASE WHEN k % 7 = 0 THEN 1 END,
           (ARRAY['openai','openai','anthropic','openai','anthropic','bedrock'])[m + 1],
           (ARRAY['gpt-4o-mini','gpt-4o','claude-3-5-haiku-latest','text-embedding-3-small','claude-3-5-sonnet-latest','llama-3-70b'])[m + 1],
           'chatComplete', 'POST', g % 3 = 0, s, s = 200,
           CASE WHEN k % 3 = 0 THEN (CASE WHEN g % 5 = 0 THEN 'HIT' ELSE 'MISS' END) ELSE 'DISABLED' END,
           CASE WHEN g % 97 = 0 THEN 1 ELSE 0 END, NULL, CASE WHEN g % 97 = 0 THEN 'retry' WHEN g % 193 = 0 THEN 'fallback' END,
           100 + g % 900, 20 + g % 400, 120 + g % 900 + g % 400, false, (100 + g % 900) * 0.0003, 'USD', false,
           lat, lat - 5, 5,
           'tr-' || g, jsonb_build_object('team', (ARRAY['search','ads','chat','support'])[g % 4 + 1], 'env', CASE WHEN g % 10 = 0 THEN 'staging' ELSE 'prod' END),
           'user-' || floor(2000 * power((g * 0.6180339887) % 1, 3))::int, 'node', 'openai/js'
         FROM (
           SELECT g, (g * 7) % 20 AS k,
             CASE WHEN g % 100 < 97 THEN 200 WHEN g % 100 < 99 THEN 429 ELSE 500 END AS s,
             (((g * 7) % 20) % 3 + (g % 2) * 3) AS m,
             (80 + floor(4000 * power((g * 0.7548776662) % 1, 2)))::int AS lat
           FROM generate_series($6::bigint, $7::bigint) g
         ) x`,
        [cp.organisationId, cp.defaultWorkspaceId, end - spanMs, spanMs, ROWS, from, to],
      );
      log(`loaded ${to.toLocaleString()} rows`);
    }
    await cp.db.query('ALTER TABLE request_metrics ADD PRIMARY KEY (organisation_id, id)');
    for (const def of defs) await cp.db.query(def.indexdef);
    log('indexes rebuilt');
    for (const sql of rollupBackfillStatements(`organisation_id = '${cp.organisationId}'`)) await cp.db.query(sql);
    await cp.db.query(
      `INSERT INTO request_metrics_daily (organisation_id, day, ${ROLLUP_DIMENSIONS.join(', ')}, ${ROLLUP_MEASURE_COLUMNS}) ${dailyFromHourlySql('request_metrics_hourly')}`,
    );
    for (const sql of metadataBackfillStatements(`organisation_id = '${cp.organisationId}'`)) await cp.db.query(sql);
    for (const sql of userSetBackfillStatements(`organisation_id = '${cp.organisationId}'`)) await cp.db.query(sql);
    for (const sql of metadataObjectBackfillStatements(`organisation_id = '${cp.organisationId}'`)) await cp.db.query(sql);
    // Everything loaded is in the rollups now: move the watermark past it.
    await cp.db.query('UPDATE metric_rollup_state SET rolled_to = pg_snapshot_xmin(pg_current_snapshot())');
    await cp.db.query('VACUUM ANALYZE request_metrics');
    await cp.db.query('VACUUM ANALYZE request_metrics_hourly');
    await cp.db.query('VACUUM ANALYZE request_metrics_hourly_users');
    for (const t of ['request_metrics_daily', 'request_metrics_daily_users', 'request_metrics_hourly_meta', 'request_metrics_daily_meta', ...USER_SET_TABLES.plain, ...USER_SET_TABLES.meta, ...METADATA_OBJECT_TABLES]) {
      await cp.db.query(`VACUUM ANALYZE ${t}`);
    }
    if (keepDir) writeFileSync(saved, JSON.stringify({ adminApiKey: cp.adminApiKey, dataPlaneToken: cp.dataPlaneToken, end }));
    log(`generated in ${Math.round((performance.now() - startedAt) / 1000)} s`);
  }
  const { rows: sizes } = await cp.db.query<{ raw: number; hourly: number; users: number; hourly_meta: number; daily_meta: number }>(
    `SELECT (SELECT count(*) FROM request_metrics)::int AS raw, (SELECT count(*) FROM request_metrics_hourly)::int AS hourly, (SELECT count(*) FROM request_metrics_hourly_users)::int AS users,
       (SELECT count(*) FROM request_metrics_hourly_meta)::int AS hourly_meta, (SELECT count(*) FROM request_metrics_daily_meta)::int AS daily_meta`,
  );
  log(`rows: ${JSON.stringify(sizes[0])}`);

  // Feedback for 1% of the requests (a minute after each, spread over API keys and models), so the
  // feedback graphs have rows to join. `version` regenerates feedback an older bench wrote.
  const fbTrace = (x: number) => 100 * x - ((x * 37) % 100);
  const { rows: fb } = await cp.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM feedback WHERE id LIKE 'fb2-%'`);
  if (!fb[0].n) {
    await cp.db.query('DELETE FROM feedback');
    await cp.db.query(
      `INSERT INTO feedback (organisation_id, id, workspace_id, trace_id, value, weight, created_at, updated_at)
       SELECT $1, 'fb2-' || g, $2, 'tr-' || g, (g % 21)::int - 10, (1 + g % 3) / 3.0, t, t
       FROM (SELECT g, to_timestamp(($3::float8 + (g::float8 / $5) * $4) / 1000) + interval '1 minute' AS t
             FROM (SELECT 100 * x - (x * 37) % 100 AS g FROM generate_series(1::bigint, $5::bigint / 100) x) gs) x`,
      [cp.organisationId, cp.defaultWorkspaceId, end - spanMs, spanMs, ROWS],
    );
    // Their requests, as the background roll-up links them (migration 68).
    await cp.db.query('DELETE FROM feedback_requests');
    await cp.db.query(feedbackLinkBackfillSql());
    await cp.db.query('VACUUM ANALYZE feedback');
    await cp.db.query('VACUUM ANALYZE feedback_requests');
    log('feedback generated');
  }
  const { rows: fbCount } = await cp.db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback');

  const feedbackGraphs = ['feedbacks', 'feedbacks/weighted', 'feedbacks/scores', 'feedbacks/ai-models'];
  const usersGraphs = ['users', 'users-requests'];
  const requestGraphs = [
    'requests', 'cost', 'tokens', 'latency', 'errors', 'errors-rate', 'errors-stack', 'errors-status-code',
    'requests-rescued', 'cache-hit-rate', 'cache-latency',
  ];
  const graphs = [...requestGraphs, ...usersGraphs, ...feedbackGraphs];
  const ranges: Record<string, number> = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };
  const meta = (pairs: Record<string, string>) => JSON.stringify(pairs);
  // (team=ads rows are odd-numbered, whose models are the last three.)
  // Every filter of the issue (workspace, model, provider, status, API key, virtual key, config,
  // prompt, metadata key=value, trace id) and the combinations the UI sends, on every graph it
  // applies to; the group-by endpoints and the log list with the same filters. `runs` is lower for
  // the variants expected to read many raw rows.
  type Variant = { name: string; filter: Record<string, string>; ranges: string[]; paths: string[]; runs: number };
  const all = ['24h', '7d', '30d'];
  const g = (list: string[]) => list.map((x) => `analytics/graphs/${x}`);
  const variants: Variant[] = [
    { name: '', filter: {}, ranges: all, paths: [...g(graphs), 'analytics/summary/cache', 'analytics/groups/ai-models', 'analytics/groups/metadata/team', 'logs'], runs: RUNS },
    { name: 'model', filter: { ai_org_model: 'openai__gpt-4o' }, ranges: ['30d'], paths: g(requestGraphs), runs: RUNS },
    { name: 'api key + status', filter: { api_key_ids: 'key-3', status_code: '200' }, ranges: ['30d'], paths: g(requestGraphs), runs: RUNS },
    {
      name: 'workspace + provider + virtual key + config + prompt',
      filter: { workspace_slug: 'default', provider: 'anthropic', virtual_keys: 'vk-4', configs: 'cfg-2', prompt_id: 'prompt-2' },
      ranges: ['30d'], paths: g(requestGraphs), runs: RUNS,
    },
    { name: 'metadata', filter: { metadata: meta({ team: 'ads' }) }, ranges: all, paths: [...g(requestGraphs), 'analytics/groups/ai-models', 'logs'], runs: RUNS },
    { name: 'metadata + model', filter: { metadata: meta({ team: 'ads' }), ai_org_model: 'anthropic__claude-3-5-sonnet-latest' }, ranges: ['24h', '30d'], paths: [...g(requestGraphs), 'analytics/groups/metadata/env', 'logs'], runs: RUNS },
    { name: 'trace id', filter: { trace_id: `tr-${fbTrace(ROWS / 250)}` }, ranges: ['30d'], paths: [...g(graphs), 'logs'], runs: RUNS },
    { name: 'users, model', filter: { ai_org_model: 'openai__gpt-4o' }, ranges: ['24h', '30d'], paths: g(usersGraphs), runs: 3 },
    { name: 'users, metadata', filter: { metadata: meta({ team: 'ads' }) }, ranges: ['24h', '30d'], paths: g(usersGraphs), runs: 3 },
    { name: 'feedback, model', filter: { ai_org_model: 'openai__gpt-4o' }, ranges: ['24h', '30d'], paths: g(feedbackGraphs), runs: 3 },
    { name: 'feedback, metadata', filter: { metadata: meta({ team: 'ads' }) }, ranges: ['24h', '30d'], paths: g(feedbackGraphs), runs: 3 },
    { name: 'metadata, two pairs', filter: { metadata: meta({ team: 'ads', env: 'prod' }) }, ranges: all, paths: [...g(requestGraphs), 'analytics/groups/ai-models', 'logs'], runs: RUNS },
  ];
  const only = process.env.ONLY; // a substring of variant names, to re-run a few
  const onlyPaths = process.env.ONLY_PATHS?.split(','); // substrings of endpoint paths (e.g. groups,logs)
  const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
  const results: { path: string; range: string; variant: string; p95: number; p50: number }[] = [];
  const measure = async (path: string, query: Record<string, string>, runs: number) => {
    const url = `${cp.url}/v1/${path}?${new URLSearchParams(query)}`;
    const times: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const t = performance.now();
      const res = await fetch(url, { headers: { 'x-portkey-api-key': cp.adminApiKey } });
      if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      if (i) times.push(performance.now() - t); // the first call warms the plan and the cache
    }
    const sorted = times.sort((a, b) => a - b);
    return { p95: Math.round(p95(sorted)), p50: Math.round(sorted[Math.floor((sorted.length - 1) / 2)]) };
  };
  for (const v of variants) {
    if (only && !(v.name || 'unfiltered').includes(only)) continue;
    for (const range of v.ranges) {
      const ms = ranges[range];
      const q = { time_of_generation_min: new Date(end - ms).toISOString(), time_of_generation_max: new Date(end).toISOString(), ...v.filter };
      for (const path of v.paths) {
        if (onlyPaths && !onlyPaths.some((x) => path.includes(x))) continue;
        const r = await measure(path, q, v.runs);
        results.push({ path: path.replace('analytics/', '').replace('graphs/', ''), range, variant: v.name, ...r });
        log(`${path} ${range} ${v.name}: p95 ${r.p95} ms, p50 ${r.p50} ms`);
      }
    }
  }
  const worst = (filter: (r: (typeof results)[number]) => boolean) => Math.max(0, ...results.filter(filter).map((r) => r.p95));
  console.log(
    JSON.stringify({
      rows: sizes[0], feedback: fbCount[0].n, runs: RUNS,
      worst_p95_ms: { unfiltered: worst((r) => !r.variant), filtered: worst((r) => !!r.variant) },
      over_500_ms: results.filter((r) => r.p95 >= 500),
      results,
    }),
  );
} finally {
  await cp.close();
  pg.stop();
  if (!keepDir) await rm(dir, { recursive: true, force: true });
}
