/**
 * Issue 5: fifty gateways heartbeating at once must not slow the control-plane API's p95 by more
 * than 20%. Run: `node bin/run-ts.mjs bench/sync-heartbeat-load.ts` (BENCH_WRITE=1 updates
 * bench/README.md between SYNC-HEARTBEAT markers).
 *
 * A control plane (PGlite, this process, as `tollgate control-plane`) with an org of
 * BENCH_CONFIGS configs. The measured call is `GET /v1/configs` (a page of 50), BENCH_REQUESTS per
 * phase, two at a time. Phases alternate, BENCH_ROUNDS times: alone, then with BENCH_GATEWAYS
 * simulated gateways in another process (bench/sync-heartbeat-gateways.ts: the sync protocol with
 * the real headers and heartbeat report, long-poll push open, heartbeat pulls every
 * BENCH_HEARTBEAT_MS, started together; no gateway state built). In both phases a
 * config changes every BENCH_CHANGE_MS, so under load every change wakes all gateways at once and
 * each pulls a delta.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { silentLogger } from '../runtime/core/logger.js';
import { startControlPlane } from '../runtime/control-plane/server.js';
import { seedScale } from './sync-seed.js';

const GATEWAYS = Number(process.env.BENCH_GATEWAYS ?? 50);
const HEARTBEAT_MS = Number(process.env.BENCH_HEARTBEAT_MS ?? 2_000);
const CHANGE_MS = Number(process.env.BENCH_CHANGE_MS ?? 3_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONFIGS = Number(process.env.BENCH_CONFIGS ?? 1_000);

const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-hb-'));
const keyringPath = join(dir, 'keyring.json');
const keyring = await localKeyring(keyringPath);
const cp = await startControlPlane({ port: 0, keyring, logger: silentLogger });
await seedScale(cp, keyring, { apiKeys: 1_000, virtualKeys: 200, configs: CONFIGS, prompts: 0 });
const headers = { 'x-portkey-api-key': cp.adminApiKey, 'content-type': 'application/json' };

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

async function listLatencies(): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      next++;
      const started = performance.now();
      const res = await fetch(`${cp.url}/v1/configs?page_size=50`, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`list answered ${res.status}`);
      out.push(performance.now() - started);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

let changes = 0;
async function phase(load: boolean) {
  let child: ChildProcess | undefined;
  let output = '';
  if (load) {
    child = spawn(process.execPath, ['bin/run-ts.mjs', 'bench/sync-heartbeat-gateways.ts'], {
      env: { ...process.env, BENCH_CP_URL: cp.url, BENCH_TOKEN: cp.dataPlaneToken, BENCH_KEYRING: keyringPath, BENCH_GATEWAYS: String(GATEWAYS), BENCH_HEARTBEAT_MS: String(HEARTBEAT_MS) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout!.on('data', (d) => (output += d));
    while (!output.includes('ready')) {
      if (child.exitCode !== null) throw new Error('the simulated gateways exited');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS)); // past the start-up full syncs, into steady heartbeats
  }
  const changer = setInterval(() => {
    changes++;
    void fetch(`${cp.url}/v1/configs/cfg-${1 + (changes % CONFIGS)}`, { method: 'PUT', headers, body: JSON.stringify({ config: { virtual_key: `vk-${1 + (changes % 200)}` } }) }).then((r) => r.arrayBuffer());
  }, CHANGE_MS);
  // The control plane's CPU with no API traffic: what the gateways (and the change stream) cost it.
  const idle0 = process.cpuUsage();
  const idleStarted = performance.now();
  await new Promise((r) => setTimeout(r, 3 * HEARTBEAT_MS));
  const idleCpu = process.cpuUsage(idle0);
  const idleShare = (idleCpu.user + idleCpu.system) / 1000 / (performance.now() - idleStarted);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const latencies = await listLatencies();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(changer);
  let counters: Record<string, number> | undefined;
  if (child) {
    const before = output.length;
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    counters = JSON.parse(output.slice(before).trim().split('\n').at(-1)!) as Record<string, number>;
  }
  return { load, latencies, seconds, cpuPerSecond: (cpu.user + cpu.system) / 1000 / seconds, idleShare, counters };
}

await listLatencies(); // warm-up (JIT, PGlite caches): without it the first "alone" phase is the slowest
await listLatencies();
const phases: Awaited<ReturnType<typeof phase>>[] = [];
for (let r = 0; r < ROUNDS; r++) {
  phases.push(await phase(false));
  phases.push(await phase(true));
}
await cp.close();
await rm(dir, { recursive: true, force: true });

const all = (load: boolean) => phases.filter((p) => p.load === load).flatMap((p) => p.latencies);
const p95Alone = pct(all(false), 95);
const p95Load = pct(all(true), 95);
const f = (x: number) => `${x.toFixed(1)} ms`;
const loadPhases = phases.filter((p) => p.load);
const sum = (k: string) => loadPhases.reduce((s, p) => s + (p.counters?.[k] ?? 0), 0);
const section = [
  `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}; \`GET /v1/configs\` (page of 50, ${CONFIGS} configs), ${REQUESTS} calls per phase, 2 at a time, ${ROUNDS} rounds of alone / with ${GATEWAYS} gateways; heartbeat every ${HEARTBEAT_MS / 1000} s (15× the real 30 s), 50 started at once, long-poll push open; a config change every ${CHANGE_MS / 1000} s in both phases (under load each wakes all ${GATEWAYS}).`,
  '',
  '| phase | p50 | p95 | p99 | control-plane CPU while listing | control-plane CPU without API calls |',
  '|---|---|---|---|---|---|',
  ...phases.map((p, i) => `| ${i + 1}. ${p.load ? `with ${GATEWAYS} gateways` : 'alone'} | ${f(pct(p.latencies, 50))} | ${f(pct(p.latencies, 95))} | ${f(pct(p.latencies, 99))} | ${Math.round(p.cpuPerSecond / 10)}% of a core | ${(p.idleShare * 100).toFixed(1)}% of a core |`),
  '',
  `**p95 with ${GATEWAYS} gateways / alone: ${(p95Load / p95Alone).toFixed(2)}** (${f(p95Load)} / ${f(p95Alone)}; target ≤ 1.20; per round: ${Array.from({ length: ROUNDS }, (_, r) => (pct(phases[2 * r + 1]!.latencies, 95) / pct(phases[2 * r]!.latencies, 95)).toFixed(2)).join(', ')}). During the load phases the gateways made ${sum('notModified')} 304 pulls, ${sum('delta')} delta pulls, ${sum('full')} full pulls and ${sum('pushWakeups')} push wake-ups; ${sum('failures')} failures.`,
].join('\n');
process.stdout.write(section + '\n');
if (process.env.BENCH_WRITE === '1') {
  const file = new URL('./README.md', import.meta.url);
  const readme = await readFile(file, 'utf8');
  if (!readme.includes('<!-- SYNC-HEARTBEAT:START -->')) throw new Error('bench/README.md has no SYNC-HEARTBEAT markers');
  await writeFile(file, readme.replace(/<!-- SYNC-HEARTBEAT:START -->[\s\S]*<!-- SYNC-HEARTBEAT:END -->/, `<!-- SYNC-HEARTBEAT:START -->\n${section}\n<!-- SYNC-HEARTBEAT:END -->`));
}
process.exit(0);
