/**
 * Sync benchmarks (issue 5). Run: `node bin/run-ts.mjs bench/sync-propagation.ts`.
 *
 * 1. Propagation: a control plane (PGlite) and BENCH_GATEWAYS gateways (heartbeat 10 min, so only the
 *    push channel explains a fast propagation). For each of BENCH_CHANGES changes made through the
 *    API: the time from the API's answer until every gateway serves the change (a new API key
 *    authenticates), then until a deleted key gets 401 everywhere. Run twice: with the in-process wake
 *    (one control-plane process, as `tollgate dev`/`tollgate control-plane`), and poll-only
 *    (TOLLGATE_SYNC_NUDGE=0: what Lambda does, a 250 ms revision poll).
 * 2. Scale: an org with BENCH_API_KEYS API keys, BENCH_VIRTUAL_KEYS virtual keys (really encrypted)
 *    and BENCH_CONFIGS configs. Full sync (pull + verify + validate + decrypt + build), one-change
 *    delta end to end (mutation → pull → applied), the CPU a 304 heartbeat costs the handler, and the
 *    gateway's heap for the state.
 * Prints a Markdown section; with BENCH_WRITE=1 writes it into bench/README.md between SYNC markers.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { memoryCache } from '../runtime/adapters/memory-cache.js';
import { virtualKeyContext } from '../runtime/core/keyring.js';
import { silentLogger } from '../runtime/core/logger.js';
import { hashSecret, newSecret } from '../runtime/core/secrets.js';
import { SYNC_PROTOCOL_HEADER } from '../runtime/core/sync-contract.js';
import { handler as syncHandler } from '../runtime/control-plane/handlers/sync.js';
import { startControlPlane, type RunningControlPlane } from '../runtime/control-plane/server.js';
import { toApiGatewayEvent } from '../runtime/control-plane/local-adapter.js';
import { startGateway, type RunningGateway } from '../runtime/gateway/server.js';
import { SyncClient } from '../runtime/gateway/sync/sync-client.js';

const GATEWAYS = Number(process.env.BENCH_GATEWAYS ?? 3);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 30);
const API_KEYS = Number(process.env.BENCH_API_KEYS ?? 50_000);
const VIRTUAL_KEYS = Number(process.env.BENCH_VIRTUAL_KEYS ?? 10_000);
const CONFIGS = Number(process.env.BENCH_CONFIGS ?? 1_000);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))]!;
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;

async function admin(cp: RunningControlPlane, method: string, path: string, body?: unknown) {
  const res = await fetch(`${cp.url}/v1${path}`, {
    method,
    headers: { 'x-portkey-api-key': cp.adminApiKey, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await res.json()) as any;
}

async function status(gw: RunningGateway, key: string): Promise<number> {
  // No provider named: an authenticated caller gets 400 (validation), an unknown key 401. No upstream needed.
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-portkey-api-key': key },
    body: '{"model":"m","messages":[{"role":"user","content":"hi"}]}',
  });
  await res.arrayBuffer();
  return res.status;
}

async function until(gws: RunningGateway[], check: (gw: RunningGateway) => Promise<boolean>, since: number): Promise<number> {
  const pending = new Set(gws);
  while (pending.size) {
    for (const gw of [...pending]) if (await check(gw)) pending.delete(gw);
    if (Date.now() - since > 30_000) throw new Error('propagation timed out');
    if (pending.size) await new Promise((r) => setTimeout(r, 2));
  }
  return Date.now() - since;
}

async function propagation(nudge: boolean): Promise<{ created: number[]; revoked: number[] }> {
  process.env.TOLLGATE_SYNC_NUDGE = nudge ? '1' : '0';
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-sync-'));
  const keyring = await localKeyring(join(dir, 'keyring.json'));
  const cp = await startControlPlane({ port: 0, keyring, logger: silentLogger });
  const gws: RunningGateway[] = [];
  for (let i = 0; i < GATEWAYS; i++) {
    gws.push(await startGateway({ port: 0, controlPlaneUrl: cp.url, dataPlaneToken: cp.dataPlaneToken, keyring, cache: memoryCache(), syncIntervalMs: 600_000, logger: silentLogger }));
  }
  while (!gws.every((g) => g.status().push)) await new Promise((r) => setTimeout(r, 20));
  const created: number[] = [];
  const revoked: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const key = await admin(cp, 'POST', '/api-keys/organisation/service', { name: `b${i}`, scopes: ['completions.write'] });
    const t0 = Date.now();
    created.push(await until(gws, async (gw) => (await status(gw, key.key)) !== 401, t0));
    await admin(cp, 'DELETE', `/api-keys/${key.id}`);
    const t1 = Date.now();
    revoked.push(await until(gws, async (gw) => (await status(gw, key.key)) === 401, t1));
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 200)); // changes land at random points of the poll cycle
  }
  await Promise.all(gws.map((g) => g.close()));
  await cp.close();
  await rm(dir, { recursive: true, force: true });
  return { created, revoked };
}

async function scale() {
  delete process.env.TOLLGATE_SYNC_NUDGE;
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-scale-'));
  const keyring = await localKeyring(join(dir, 'keyring.json'));
  const cp = await startControlPlane({ port: 0, keyring, logger: silentLogger });
  const org = cp.organisationId;
  const ws = cp.defaultWorkspaceId;
  const t0 = Date.now();
  await cp.db.query(
    `INSERT INTO api_keys (id, organisation_id, workspace_id, key_hash, masked_key, name, scope, type, scopes)
     SELECT 'bk-' || g, $1, $2, md5('k' || g) || md5('h' || g), 'pk-****', 'bench ' || g, 'workspace', 'service', '["completions.write"]'::jsonb
     FROM generate_series(1, $3) g`,
    [org, ws, API_KEYS],
  );
  await cp.db.query(
    `INSERT INTO configs (id, organisation_id, workspace_id, slug, name) SELECT 'bc-' || g, $1, $2, 'cfg-' || g, 'cfg ' || g FROM generate_series(1, $3) g`,
    [org, ws, CONFIGS],
  );
  await cp.db.query(
    `INSERT INTO config_versions (id, organisation_id, config_id, version, name, config)
     SELECT 'bcv-' || g, $1, 'bc-' || g, 1, 'cfg ' || g,
       jsonb_build_object('strategy', jsonb_build_object('mode', 'fallback'), 'targets', jsonb_build_array(jsonb_build_object('virtual_key', 'vk-' || g), jsonb_build_object('virtual_key', 'vk-' || (g + 1))))
     FROM generate_series(1, $2) g`,
    [org, CONFIGS],
  );
  for (let start = 1; start <= VIRTUAL_KEYS; start += 1000) {
    const ids: string[] = [];
    const slugs: string[] = [];
    const sealed: string[] = [];
    for (let i = start; i < Math.min(start + 1000, VIRTUAL_KEYS + 1); i++) {
      ids.push(`bv-${i}`);
      slugs.push(`vk-${i}`);
      sealed.push(await keyring.encrypt(`sk-bench-${i}-${newSecret('', 12)}`, virtualKeyContext(org, ws, `vk-${i}`)));
    }
    await cp.db.query(
      `INSERT INTO virtual_keys (id, organisation_id, workspace_id, slug, name, provider, encrypted_key, masked_key)
       SELECT id, $1, $2, slug, slug, 'openai', enc, 'sk-****' FROM unnest($3::text[], $4::text[], $5::text[]) AS t(id, slug, enc)`,
      [org, ws, ids, slugs, sealed],
    );
  }
  const seedS = (Date.now() - t0) / 1000;

  // Full sync into an empty gateway state.
  const fullRuns: number[] = [];
  let heapMb = 0;
  let client: SyncClient | undefined;
  for (let i = 0; i < 2; i++) {
    await client?.close();
    client = undefined; // drop the previous state before measuring the baseline
    (globalThis as { gc?: () => void }).gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    client = new SyncClient({ controlPlaneUrl: cp.url, dataPlaneToken: cp.dataPlaneToken, keyring, cache: memoryCache(), logger: silentLogger, push: false });
    const started = performance.now();
    await client.syncNow();
    fullRuns.push(performance.now() - started);
    if (client.getStatus().lastSyncError) throw new Error(client.getStatus().lastSyncError!);
    (globalThis as { gc?: () => void }).gc?.();
    heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  }
  const sizes = client!.state;

  // One change, end to end: the API mutation, then the pull that applies it.
  const deltaRuns: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await admin(cp, 'PUT', `/configs/cfg-${i + 1}`, { config: { virtual_key: `vk-${i + 2}` } });
    const mutated = performance.now();
    await client!.syncNow();
    deltaRuns.push(performance.now() - mutated);
    if (i === 0) process.stderr.write(`[bench] API update ${ms(mutated - started)}\n`);
  }
  const deltas = client!.getStatus().counters.delta;

  // 304 heartbeat: the Lambda handler itself, CPU time per call (PGlite's query work runs in this process too, so this is an upper bound).
  const event = toApiGatewayEvent(
    { url: `/v1/sync/snapshot?since=${client!.state.version}`, method: 'GET', headers: { authorization: `Bearer ${cp.dataPlaneToken}`, [SYNC_PROTOCOL_HEADER]: '2' }, httpVersion: '1.1', socket: {} } as never,
    Buffer.alloc(0),
    'GET /v1/sync/snapshot',
    {},
  );
  const context = { tollgateControlPlane: { db: cp.db, keyring, devMode: false, logger: silentLogger } } as never;
  for (let i = 0; i < 200; i++) await syncHandler(event, context);
  const N = 2000;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < N; i++) {
    const r = (await syncHandler(event, context)) as { statusCode: number };
    if (r.statusCode !== 304) throw new Error(`expected 304, got ${r.statusCode}`);
  }
  const cpu = process.cpuUsage(cpu0);
  const notModifiedCpu = (cpu.user + cpu.system) / 1000 / N;
  const notModifiedWall = (performance.now() - wall0) / N;

  await client!.close();
  await cp.close();
  await rm(dir, { recursive: true, force: true });
  return {
    seedS,
    fullRuns,
    heapMb,
    deltaRuns,
    deltas,
    notModifiedCpu,
    notModifiedWall,
    counts: { apiKeys: sizes.apiKeysByHash.size, virtualKeys: sizes.virtualKeys.size, configs: sizes.configs.size / 2 },
  };
}

const nudged = await propagation(true);
const polled = await propagation(false);
const s = await scale();

const row = (name: string, xs: number[]) => `| ${name} | ${pct(xs, 50)} ms | ${pct(xs, 99)} ms | ${Math.max(...xs)} ms |`;
const section = [
  `Run ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${GATEWAYS} gateways, ${CHANGES} changes each way, heartbeat 10 min (push only).`,
  '',
  '| propagation (API answer → every gateway) | p50 | p99 | max |',
  '|---|---|---|---|',
  row('new API key serves (in-process wake)', nudged.created),
  row('deleted API key → 401 (in-process wake)', nudged.revoked),
  row('new API key serves (poll only, as Lambda)', polled.created),
  row('deleted API key → 401 (poll only, as Lambda)', polled.revoked),
  '',
  `Scale: ${s.counts.apiKeys} API keys, ${s.counts.virtualKeys} virtual keys (each really encrypted), ${s.counts.configs} configs (seeded in ${s.seedS.toFixed(1)} s). No prompts (bench/sync-full.ts seeds 1,000).`,
  '',
  '| measure | result | target |',
  '|---|---|---|',
  `| full sync in-process with the control plane (pull, verify, validate, build; secrets stay sealed) | ${s.fullRuns.map((x) => ms(x)).join(' / ')} (cold / warm) | < 2 s |`,
  `| one-change delta, end to end (after the API answered) | p50 ${ms(pct(s.deltaRuns, 50))}, max ${ms(Math.max(...s.deltaRuns))} (${s.deltas} deltas) | < 50 ms |`,
  `| 304 heartbeat, control-plane handler CPU | ${s.notModifiedCpu.toFixed(3)} ms/call (wall ${s.notModifiedWall.toFixed(3)} ms; includes in-process PGlite) | < 1 ms |`,
  `| gateway heap for the synced state | ${s.heapMb.toFixed(0)} MB | recorded |`,
].join('\n');
process.stdout.write(section + '\n');

if (process.env.BENCH_WRITE === '1') {
  const file = new URL('./README.md', import.meta.url);
  const readme = await readFile(file, 'utf8');
  const block = `<!-- SYNC:START -->\n${section}\n<!-- SYNC:END -->`;
  const next = readme.includes('<!-- SYNC:START -->')
    ? readme.replace(/<!-- SYNC:START -->[\s\S]*<!-- SYNC:END -->/, block)
    : `${readme.trimEnd()}\n\n## Sync (propagation and scale)\n\n\`node bin/run-ts.mjs bench/sync-propagation.ts\` (\`BENCH_WRITE=1\` to update this section). See docs/sync.md.\n\n${block}\n`;
  await writeFile(file, next);
}
process.exit(0);
