/**
 * What budget reconciliation costs the heartbeat (issue 9): 304 heartbeats against an org whose
 * metrics table holds ROWS request records, first with no budgets (baseline), then with KEYS API keys
 * carrying `usage_limits` (the control plane sums their period usage on every heartbeat; its per-org
 * cache is off here, so every heartbeat pays the query).
 *   node ./bin/run-ts.mjs bench/budget-usage.ts
 *   env: ENGINE (postgres|pglite, default postgres), DATABASE_URL, ROWS (default 200000), KEYS (default 50), HEARTBEATS (default 300)
 * Reports the first heartbeat (a full sum of the period), then p50/p95 latency and CPU ms per
 * heartbeat in steady state (incremental: only rows ingested since the previous one), for the
 * control plane process and the PostgreSQL cluster.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { silentLogger } from '../runtime/core/logger.js';
import { asApp, setTenant } from '../runtime/control-plane/db/tenant.js';
import { startControlPlane } from '../runtime/control-plane/server.js';
import { benchPostgres } from './lib/postgres-server.js';

const ENGINE = process.env.ENGINE ?? 'postgres';
const ROWS = Number(process.env.ROWS ?? (ENGINE === 'pglite' ? 50_000 : 200_000));
const KEYS = Number(process.env.KEYS ?? 50);
const HEARTBEATS = Number(process.env.HEARTBEATS ?? 300);
process.env.TOLLGATE_BUDGET_USAGE_CACHE_MS = '0';
process.env.TOLLGATE_BUDGET_USAGE_SETTLE_MS = '0';

const pg = ENGINE === 'postgres' ? await benchPostgres() : undefined;
const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-budget-'));
const cp = await startControlPlane({ port: 0, databaseUrl: pg?.url, dataDir: pg ? undefined : join(dir, 'cp'), keyring: await localKeyring(join(dir, 'keyring.json')), logger: silentLogger });
try {
  const api = (path: string, method: string, json?: unknown) =>
    fetch(`${cp.url}${path}`, { method, headers: { 'x-portkey-api-key': cp.adminApiKey, 'content-type': 'application/json' }, body: json ? JSON.stringify(json) : undefined });
  const ids: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    const res = await api('/v1/api-keys/organisation/service', 'POST', { name: `budget-${i}`, scopes: ['completions.write'] });
    ids.push(((await res.json()) as { id: string }).id);
  }
  // Half the rows belong to the keys that will get budgets, half to others; spread over 40 days, so
  // a monthly period reads only part of them.
  await cp.db.transaction(async (tx) => {
    await asApp(tx);
    await setTenant(tx, cp.organisationId);
    await tx.query(
      `INSERT INTO request_metrics (organisation_id, id, workspace_id, created_at, api_key_id, virtual_key, endpoint, method, stream, status, success,
         retry_count, req_units, res_units, total_units, units_estimated, cost, currency, cost_unknown, total_ms, upstream_ms, gateway_ms)
       SELECT $1, 'r' || g, $2, now() - (g % 3456000) * interval '1 second',
         CASE WHEN g % 2 = 0 THEN ($3::text[])[1 + (g / 2) % $4] ELSE 'other-' || (g % 97) END, 'vk-' || (g % 7),
         'chatComplete', 'POST', false, CASE WHEN g % 50 = 0 THEN 429 ELSE 200 END, g % 50 <> 0,
         0, 100, 50, 150, false, 0.01 * (g % 7), 'USD', false, 300, 290, 10
       FROM generate_series(1, $5) g`,
      [cp.organisationId, cp.defaultWorkspaceId, ids, KEYS, ROWS],
    );
  });
  if (pg) await cp.db.query('ANALYZE request_metrics');

  const first = await fetch(`${cp.url}/v1/sync/snapshot?since=0`, { headers: { authorization: `Bearer ${cp.dataPlaneToken}`, 'x-tollgate-sync-protocol': '2' } });
  let version = ((await first.json()) as { version: number }).version;
  const heartbeat = async (): Promise<string | null> => {
    const res = await fetch(`${cp.url}/v1/sync/snapshot?since=${version}`, { headers: { authorization: `Bearer ${cp.dataPlaneToken}`, 'x-tollgate-sync-protocol': '2' } });
    if (res.status === 200) {
      // The org moved on (e.g. the budgets below): catch up, then heartbeat again.
      version = ((await res.json()) as { version: number }).version;
      return heartbeat();
    }
    await res.arrayBuffer();
    if (res.status !== 304) throw new Error(`heartbeat answered ${res.status}`);
    return res.headers.get('x-tollgate-budget-usage');
  };
  const measure = async (label: string) => {
    // The first heartbeat sums the whole period (as after a restart, or every 10 minutes); the
    // others read only what was ingested since.
    const t0 = performance.now();
    await heartbeat();
    const firstMs = performance.now() - t0;
    for (let i = 0; i < 20; i++) await heartbeat();
    const times: number[] = [];
    const cpu0 = process.cpuUsage();
    const db0 = pg?.cpuSeconds() ?? 0;
    let header: string | null = null;
    for (let i = 0; i < HEARTBEATS; i++) {
      const t = performance.now();
      header = await heartbeat();
      times.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    const dbCpu = pg ? pg.cpuSeconds() - db0 : 0;
    times.sort((a, b) => a - b);
    const ms = (x: number) => Math.round(x * 100) / 100;
    console.log(JSON.stringify({
      engine: ENGINE, label, rows: ROWS, first_heartbeat_ms: Math.round(firstMs * 100) / 100, budgeted_keys: label === 'baseline' ? 0 : KEYS, heartbeats: HEARTBEATS,
      p50_ms: ms(times[Math.floor(times.length / 2)]), p95_ms: ms(times[Math.floor(times.length * 0.95)]),
      node_cpu_ms_per_heartbeat: ms(((cpu.user + cpu.system) / 1000) / HEARTBEATS),
      // Parallel query workers that exit between samples drop out of the cluster's sum: a negative figure is no figure.
      postgres_cpu_ms_per_heartbeat: pg && dbCpu >= 0 ? ms((dbCpu * 1000) / HEARTBEATS) : null,
      header_bytes: header?.length ?? 0,
    }));
  };
  await measure('baseline');
  // Budgets are set on the keys directly: the API would bump the revision and turn the 304s into deltas.
  await cp.db.transaction(async (tx) => {
    await asApp(tx);
    await setTenant(tx, cp.organisationId);
    await tx.query(`UPDATE api_keys SET usage_limits = '{"type":"cost","credit_limit":100,"periodic_reset":"monthly"}'::jsonb WHERE id = ANY($1)`, [ids]);
  });
  await measure('budgets');
} finally {
  await cp.close();
  pg?.stop();
  await rm(dir, { recursive: true, force: true });
}
