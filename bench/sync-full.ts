/**
 * Full sync at issue-5 scale, end to end. Run: `node bin/run-ts.mjs bench/sync-full.ts`
 * (BENCH_RUNS, BENCH_API_KEYS, BENCH_VIRTUAL_KEYS, BENCH_CONFIGS, BENCH_PROMPTS; BENCH_WRITE=1
 * writes the result into bench/README.md between SYNC-FULL markers).
 *
 * A control plane (PGlite, this process) holds the seeded org; each run starts a fresh gateway in
 * its own process (bench/sync-full-gateway.ts) and measures, from its first request to the control
 * plane: the state applied, the first LLM call served through a config whose two virtual keys are
 * still sealed (to a local mock upstream), and every secret decrypted in the background; plus the
 * gateway's CPU and memory. One run with BENCH_EAGER=1 is the old behaviour (decrypt all, then serve).
 *
 * The control plane keeps each org's snapshot materialised (runtime/control-plane/sync/materialised.ts),
 * so the full sync is measured in the states it can be in when a gateway asks (BENCH_RUNS each):
 * never built (the one-time rebuild from the tables, which every first sync after a change paid
 * before), current (warm), right after a change made through the API (same process), and after a
 * change in a control-plane process that has nothing in memory (a new process or cold Lambda
 * container: the stored row rolled forward with the change log). Also the control plane's own
 * answer time for each state, fetched directly.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { silentLogger } from '../runtime/core/logger.js';
import { startControlPlane } from '../runtime/control-plane/server.js';
import { flushMaterialised, forgetMaterialised } from '../runtime/control-plane/sync/materialised.js';
import { SYNC_PATH, SYNC_PROTOCOL_HEADER } from '../runtime/core/sync-contract.js';
import { scaleFromEnv, seedScale } from './sync-seed.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const n = scaleFromEnv();

const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 0, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
  });
});
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;

const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-full-'));
const keyringPath = join(dir, 'keyring.json');
const keyring = await localKeyring(keyringPath);
const cp = await startControlPlane({ port: 0, keyring, logger: silentLogger });
const seedS = await seedScale(cp, keyring, n, upstreamUrl);
const created = (await (
  await fetch(`${cp.url}/v1/api-keys/organisation/service`, {
    method: 'POST',
    headers: { 'x-portkey-api-key': cp.adminApiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench probe', scopes: ['completions.write'] }),
  })
).json()) as { key: string };
process.stderr.write(`[bench] seeded in ${seedS.toFixed(1)} s\n`);

interface Run {
  eager: boolean;
  toAppliedMs: number;
  toServingMs: number;
  toAllDecryptedMs: number;
  lastApplyMs: number;
  duringWarmMaxMs: number;
  duringWarmP50Ms: number;
  openedInBackground: number;
  cpuMs: number;
  cpuToAppliedMs: number;
  cpuToServingMs: number;
  heapMb: number;
  rssMb: number;
  rssGrowthMb: number;
  controlPlaneCpuMs: number;
}

async function run(eager: boolean, serveOnly = false): Promise<Run> {
  const cpu0 = process.cpuUsage();
  const child = spawn(process.execPath, ['--expose-gc', 'bin/run-ts.mjs', 'bench/sync-full-gateway.ts'], {
    env: { ...process.env, BENCH_CP_URL: cp.url, BENCH_TOKEN: cp.dataPlaneToken, BENCH_KEYRING: keyringPath, BENCH_API_KEY: created.key, BENCH_CONFIG: 'cfg-1', BENCH_EAGER: eager ? '1' : '0', BENCH_SERVE_ONLY: serveOnly ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`gateway run exited ${code}: ${out}`);
  const cpu = process.cpuUsage(cpu0);
  process.stderr.write(`[bench] ${out.trim().split("\n").at(-1)}\n`);
  return { ...(JSON.parse(out.trim().split('\n').at(-1)!) as Omit<Run, 'controlPlaneCpuMs'>), controlPlaneCpuMs: (cpu.user + cpu.system) / 1000 };
}

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const headers = { 'x-portkey-api-key': cp.adminApiKey, 'content-type': 'application/json' };
let changes = 0;
/** A change through the API (this process: the materialised snapshot is rolled forward in the background). */
const apiChange = async () => {
  changes++;
  const res = await fetch(`${cp.url}/v1/configs/cfg-${2 + (changes % 50)}`, { method: 'PUT', headers, body: JSON.stringify({ config: { virtual_key: `vk-${1 + (changes % 100)}` } }) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`config update answered ${res.status}`);
};
/** A change made by another control-plane process: this one has nothing in memory and sees only the database. */
const otherProcessChange = async () => {
  await flushMaterialised(cp.db, cp.organisationId);
  await cp.db.query(`UPDATE api_keys SET status = CASE status WHEN 'active' THEN 'revoked' ELSE 'active' END WHERE id = $1`, [`bk-${1 + (changes++ % 1000)}`]);
  forgetMaterialised(cp.db);
};
/** Nothing materialised or stored: the snapshot is built from the tables (every first sync after a change, before). */
const nothingMaterialised = async () => {
  await flushMaterialised(cp.db, cp.organisationId);
  forgetMaterialised(cp.db);
  await cp.db.query('DELETE FROM sync_snapshots');
  await cp.db.query(`UPDATE api_keys SET status = CASE status WHEN 'active' THEN 'revoked' ELSE 'active' END WHERE id = $1`, [`bk-${1 + (changes++ % 1000)}`]);
};

/** The control plane alone: one full-sync answer, fetched and read by this process, wall and CPU. */
async function answer(): Promise<{ ms: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const get = () => fetch(`${cp.url}${SYNC_PATH}`, { headers: { authorization: `Bearer ${cp.dataPlaneToken}`, [SYNC_PROTOCOL_HEADER]: '2' } });
  // A kept-alive socket the server closed while idle (a long set-up step) resets once: retry on a new one.
  const res = await get().catch(get);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`full sync answered ${res.status}`);
  const cpu = process.cpuUsage(cpu0);
  return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}
const scenarios: { name: string; before: () => Promise<void> }[] = [
  { name: 'nothing materialised: rebuilt from the tables (before: every first sync after a change)', before: nothingMaterialised },
  { name: 'materialised and current (no change since)', before: async () => undefined },
  { name: 'right after a change through the API (same control-plane process)', before: apiChange },
  { name: 'after a change, control-plane process with nothing in memory (stored row + change log; a cold Lambda container)', before: otherProcessChange },
];
const answers = new Map<string, { ms: number; cpuMs: number; load: string }[]>();
const gateways = new Map<string, (Run & { load: string })[]>();
await answer(); // warm-up: JIT, first materialisation
for (const sc of scenarios) {
  const list: { ms: number; cpuMs: number; load: string }[] = [];
  for (let i = 0; i < RUNS; i++) {
    await sc.before();
    list.push({ ...(await answer()), load: load() });
  }
  answers.set(sc.name, list);
  process.stderr.write(`[bench] control plane, ${sc.name}: ${list.map((a) => `${Math.round(a.ms)} ms`).join(', ')} (load ${load()})\n`);
}
for (const sc of scenarios) {
  const list: (Run & { load: string })[] = [];
  for (let i = 0; i < RUNS; i++) {
    await sc.before();
    list.push({ ...(await run(false, true)), load: load() });
  }
  gateways.set(sc.name, list);
  process.stderr.write(`[bench] gateway, ${sc.name}: ${list.map((r) => `${Math.round(r.toServingMs)} ms`).join(', ')} to serving (load ${load()})\n`);
}
const lazy: Run[] = [];
for (let i = 0; i < RUNS; i++) lazy.push(await run(false));
const eager = await run(true);
await cp.close();
upstream.close();
await rm(dir, { recursive: true, force: true });

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (x: number) => `${Math.round(x)} ms`;
const pick = (k: keyof Run) => lazy.map((r) => r[k] as number);
const section = [
  `Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, load average at the end ${load()}; ${n.apiKeys} API keys, ${n.virtualKeys} virtual keys (each really encrypted), ${n.configs} configs, ${n.prompts} prompts; seeded in ${seedS.toFixed(1)} s. ${RUNS} runs per row; medians, with every run.`,
  '',
  '| full sync: the control plane\'s snapshot when the gateway asks | control plane answers (wall / CPU) | fresh gateway process serves its first call (from its first request) | gateway CPU to serving | load average (1 min) per run | target |',
  '|---|---|---|---|---|---|',
  ...scenarios.map((sc) => {
    const a = answers.get(sc.name)!;
    const g = gateways.get(sc.name)!;
    return `| ${sc.name} | ${f(med(a.map((x) => x.ms)))} / ${f(med(a.map((x) => x.cpuMs)))} (${a.map((x) => Math.round(x.ms)).join(', ')}) | **${f(med(g.map((r) => r.toServingMs)))}** (${g.map((r) => Math.round(r.toServingMs)).join(', ')}) | ${f(med(g.map((r) => r.cpuToServingMs)))} | ${g.map((r) => r.load.split(' ')[0]).join(', ')} | < 2 s |`;
  }),
  '',
  `Materialised and current, with the background decryption measured (median of ${RUNS} gateway processes; each run: ${lazy.map((r) => f(r.toServingMs)).join(', ')} to serving):`,
  '',
  '| full sync, from the gateway\'s first request | lazy secrets (now) | eager (decrypt all first, before) | target |',
  '|---|---|---|---|',
  `| state applied (pull, verify, validate, build) | ${f(med(pick('toAppliedMs')))} | ${f(eager.toAppliedMs)} | |`,
  `| **serving**: first call through a config with 2 sealed virtual keys answered | **${f(med(pick('toServingMs')))}** | ${f(eager.toServingMs)} | < 2 s |`,
  `| every secret decrypted (background, slices of 8) | ${f(med(pick('toAllDecryptedMs')))} | ${f(eager.toAllDecryptedMs)} | |`,
  `| calls during the background decryption (20, sequential) | p50 ${f(med(pick('duringWarmP50Ms')))}, max ${f(med(pick('duringWarmMaxMs')))} | | |`,
  `| gateway CPU until the state is applied / until serving | ${f(med(pick('cpuToAppliedMs')))} / ${f(med(pick('cpuToServingMs')))} | ${f(eager.cpuToAppliedMs)} / ${f(eager.cpuToServingMs)} | |`,
  `| **CPU on the path to serving** (gateway until serving + control plane for the run; the wall time on an idle core) | **${f(med(lazy.map((r) => r.cpuToServingMs + r.controlPlaneCpuMs)))}** | ${f(eager.cpuToServingMs + eager.controlPlaneCpuMs)} | < 2 s |`,
  `| gateway CPU until all decrypted | ${f(med(pick('cpuMs')))} | ${f(eager.cpuMs)} | |`,
  `| control-plane CPU (PGlite, serve) | ${f(med(pick('controlPlaneCpuMs')))} | ${f(eager.controlPlaneCpuMs)} | |`,
  `| gateway heap for the state (after GC, all decrypted) | ${med(pick('heapMb'))} MB | ${eager.heapMb} MB | recorded |`,
  `| gateway RSS (after GC, all decrypted) | ${med(pick('rssMb'))} MB (+${med(pick('rssGrowthMb'))} MB for the sync) | ${eager.rssMb} MB | recorded |`,
].join('\n');
process.stdout.write(section + '\n');

if (process.env.BENCH_WRITE === '1') {
  const file = new URL('./README.md', import.meta.url);
  const readme = await readFile(file, 'utf8');
  const block = `<!-- SYNC-FULL:START -->\n${section}\n<!-- SYNC-FULL:END -->`;
  if (!readme.includes('<!-- SYNC-FULL:START -->')) throw new Error('bench/README.md has no SYNC-FULL markers');
  await writeFile(file, readme.replace(/<!-- SYNC-FULL:START -->[\s\S]*<!-- SYNC-FULL:END -->/, block));
}
process.exit(0);
