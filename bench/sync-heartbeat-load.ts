/**
 * Issue 5: fifty gateways heartbeating at once must not slow the control-plane API's p95 by more
 * than 20%. Run: `node bin/run-ts.mjs bench/sync-heartbeat-load.ts` (BENCH_WRITE=1 updates
 * bench/README.md between SYNC-HEARTBEAT markers; BENCH_PROFILE=stress runs the 15× stress
 * configuration instead and writes between SYNC-HEARTBEAT-STRESS markers).
 *
 * A control plane (PGlite, this process, as `tollgate control-plane`) with an org of BENCH_CONFIGS
 * configs. The measured call is `GET /v1/configs` (a page of 50), from two workers pausing
 * BENCH_API_THINK_MS (50) between calls (0: back to back, the control plane saturated).
 * Phases of BENCH_PHASE_SECONDS alternate, BENCH_ROUNDS times: alone, then with BENCH_GATEWAYS
 * simulated gateways in another process (bench/sync-heartbeat-gateways.ts: the sync protocol with
 * the real headers and heartbeat report, long-poll push open for all, heartbeat pulls every
 * BENCH_HEARTBEAT_MS, started together). In both phases a config changes every BENCH_CHANGE_MS, so
 * under load every change wakes all gateways at once. Progress goes to stderr after every phase.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { silentLogger } from '../runtime/core/logger.js';
import { startControlPlane } from '../runtime/control-plane/server.js';
import { seedScale } from './sync-seed.js';

const stress = process.env.BENCH_PROFILE === 'stress';
const num = (name: string, real: number, stressed: number) => Number(process.env[name] ?? (stress ? stressed : real));
const GATEWAYS = num('BENCH_GATEWAYS', 50, 50);
const HEARTBEAT_MS = num('BENCH_HEARTBEAT_MS', 30_000, 2_000);
const CHANGE_MS = num('BENCH_CHANGE_MS', 10_000, 3_000);
const PHASE_S = num('BENCH_PHASE_SECONDS', 60, 30);
const ROUNDS = num('BENCH_ROUNDS', 3, 2);
const API_THINK_MS = num('BENCH_API_THINK_MS', 50, 50);
const CONFIGS = num('BENCH_CONFIGS', 1_000, 1_000);
const MARKER = stress ? 'SYNC-HEARTBEAT-STRESS' : 'SYNC-HEARTBEAT';
/** BENCH_COMPARE_PULL=1 adds a third phase per round: gateways without `wait-delta` (each wake-up is a pull, as before). */
const COMPARE_PULL = process.env.BENCH_COMPARE_PULL === '1';
type Kind = 'alone' | 'gateways' | 'gateways-pull';

const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-hb-'));
const keyringPath = join(dir, 'keyring.json');
const keyring = await localKeyring(keyringPath);
const cp = await startControlPlane({ port: 0, keyring, logger: silentLogger });
await seedScale(cp, keyring, { apiKeys: 1_000, virtualKeys: 200, configs: CONFIGS, prompts: 0 });
const headers = { 'x-portkey-api-key': cp.adminApiKey, 'content-type': 'application/json' };

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
const benchStart = performance.now();

async function listOnce(): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${cp.url}/v1/configs?page_size=50`, { headers });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`list answered ${res.status}`);
  return performance.now() - started;
}

/**
 * List calls for `seconds` from two workers, each pausing API_THINK_MS between its calls: bounded
 * concurrency, so a starved machine (other agents' load) slows the senders instead of queueing
 * without bound, and the control plane is not saturated on a quiet one. API_THINK_MS=0: back to back.
 */
async function apiLoad(seconds: number): Promise<number[]> {
  const out: number[] = [];
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      out.push(await listOnce());
      if (API_THINK_MS > 0) await sleep(API_THINK_MS);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

let changes = 0;
async function phase(kind: Kind, round: number) {
  const load = kind !== 'alone';
  let child: ChildProcess | undefined;
  let output = '';
  if (load) {
    child = spawn(process.execPath, ['bin/run-ts.mjs', 'bench/sync-heartbeat-gateways.ts'], {
      env: { ...process.env, BENCH_CP_URL: cp.url, BENCH_TOKEN: cp.dataPlaneToken, BENCH_KEYRING: keyringPath, BENCH_GATEWAYS: String(GATEWAYS), BENCH_HEARTBEAT_MS: String(HEARTBEAT_MS), BENCH_WAIT_DELTA: kind === 'gateways-pull' ? '0' : '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout!.on('data', (d) => (output += d));
    while (!output.includes('ready')) {
      if (child.exitCode !== null) throw new Error('the simulated gateways exited');
      await sleep(50);
    }
    // Past the start-up full pulls; heartbeats are de-phased over the interval from the start.
    await sleep(2_000);
  }
  const changer = setInterval(() => {
    changes++;
    void fetch(`${cp.url}/v1/configs/cfg-${1 + (changes % CONFIGS)}`, { method: 'PUT', headers, body: JSON.stringify({ config: { virtual_key: `vk-${1 + (changes % 200)}` } }) }).then((r) => r.arrayBuffer());
  }, CHANGE_MS);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const latencies = await apiLoad(PHASE_S);
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
  const result = { kind, load, latencies, cpuShare: (cpu.user + cpu.system) / 1000 / (seconds * 1000), counters, loadAvg: loadAvg() };
  process.stderr.write(
    `[bench] ${Math.round((performance.now() - benchStart) / 1000)} s: round ${round + 1}/${ROUNDS} ${label(kind)}: ${latencies.length} calls, p50 ${pct(latencies, 50).toFixed(1)} ms, p95 ${pct(latencies, 95).toFixed(1)} ms, control plane ${Math.round(result.cpuShare * 100)}% of a core, load average ${result.loadAvg}${counters ? `, ${JSON.stringify(counters)}` : ''}\n`,
  );
  return result;
}

function label(kind: Kind): string {
  return kind === 'alone' ? 'alone' : kind === 'gateways' ? `with ${GATEWAYS} gateways` : `with ${GATEWAYS} gateways, pull on wake-up (before)`;
}
const kinds: Kind[] = COMPARE_PULL ? ['alone', 'gateways', 'gateways-pull'] : ['alone', 'gateways'];
process.stderr.write(`[bench] ${stress ? 'STRESS profile' : 'real profile'}: ${ROUNDS} rounds of ${PHASE_S} s phases: ${kinds.map(label).join(' / ')} (about ${Math.round((ROUNDS * kinds.length * (PHASE_S + 3) + 10) / 60)} min)\n`);
await apiLoad(10); // warm-up (JIT, PGlite caches): without it the first "alone" phase is the slowest
const phases: Awaited<ReturnType<typeof phase>>[] = [];
for (let r = 0; r < ROUNDS; r++) for (const kind of kinds) phases.push(await phase(kind, r));
await cp.close();
await rm(dir, { recursive: true, force: true });

const all = (kind: Kind) => phases.filter((p) => p.kind === kind).flatMap((p) => p.latencies);
const of = (kind: Kind, r: number) => phases.filter((p) => p.kind === kind)[r]!;
const p95Alone = pct(all('alone'), 95);
const f = (x: number) => `${x.toFixed(1)} ms`;
const meanShare = (kind: Kind) => phases.filter((p) => p.kind === kind).reduce((s, p) => s + p.cpuShare, 0) / ROUNDS;
/**
 * What the gateways cost the control plane, as a share of a core: the phase's CPU minus what its
 * list calls cost at the same round's alone rate (closed-loop phases do not make the same number of calls).
 */
const gatewayShare = (kind: Kind) =>
  Array.from({ length: ROUNDS }, (_, r) => {
    const alone = of('alone', r);
    const p = of(kind, r);
    const perCall = (alone.cpuShare * PHASE_S) / alone.latencies.length;
    return (p.cpuShare * PHASE_S - perCall * p.latencies.length) / PHASE_S;
  }).reduce((a, b) => a + b, 0) / ROUNDS;
const rate = API_THINK_MS > 0 ? `2 workers, ${API_THINK_MS} ms between a worker's calls` : 'back to back from 2 workers (saturated)';
const summary = (kind: Kind) => {
  const p95 = pct(all(kind), 95);
  const ps = phases.filter((p) => p.kind === kind);
  const sum = (k: string) => ps.reduce((s, p) => s + (p.counters?.[k] ?? 0), 0);
  return `**p95 ${label(kind)} / alone: ${(p95 / p95Alone).toFixed(2)}** (${f(p95)} / ${f(p95Alone)}, all rounds pooled; target ≤ 1.20; per round: ${Array.from({ length: ROUNDS }, (_, r) => (pct(of(kind, r).latencies, 95) / pct(of('alone', r).latencies, 95)).toFixed(2)).join(', ')}). The gateways cost the control plane ${(gatewayShare(kind) * 100).toFixed(1)}% of a core (the phase's CPU minus its list calls at the alone phase's CPU per call; mean CPU ${(meanShare(kind) * 100).toFixed(0)}% vs ${(meanShare('alone') * 100).toFixed(0)}% alone); they made ${sum('notModified')} 304 pulls, ${sum('delta')} delta pulls, ${sum('full')} full pulls, ${sum('pushDeltas')} deltas received on the wait channel, ${sum('pushWakeups')} push wake-ups; ${sum('failures')} failures.`;
};
const section = [
  `${stress ? '**Stress (15× the real heartbeat rate, not the target configuration).** ' : ''}Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${Math.round((performance.now() - benchStart) / 60_000)} min; \`GET /v1/configs\` (page of 50, ${CONFIGS} configs) at ${rate}, ${ROUNDS} rounds of ${PHASE_S} s phases (${kinds.map(label).join(' / ')}); heartbeat every ${HEARTBEAT_MS / 1000} s${stress ? ` (${Math.round(30_000 / HEARTBEAT_MS)}× the real 30 s)` : ' (the real rate)'}, ${GATEWAYS} started at once, long-poll push open for all; a config change every ${CHANGE_MS / 1000} s in every phase (under load each wakes all ${GATEWAYS}).`,
  '',
  '| phase | calls | p50 | p95 | p99 | control-plane CPU | load average (1 min) at the end |',
  '|---|---|---|---|---|---|---|',
  ...phases.map((p, i) => `| ${Math.floor(i / kinds.length) + 1}. ${label(p.kind)} | ${p.latencies.length} | ${f(pct(p.latencies, 50))} | ${f(pct(p.latencies, 95))} | ${f(pct(p.latencies, 99))} | ${Math.round(p.cpuShare * 100)}% of a core | ${p.loadAvg} |`),
  '',
  ...kinds.filter((k) => k !== 'alone').map(summary),
].join('\n');
process.stdout.write(section + '\n');
if (process.env.BENCH_WRITE === '1') {
  const file = new URL('./README.md', import.meta.url);
  const readme = await readFile(file, 'utf8');
  const re = new RegExp(`<!-- ${MARKER}:START -->[\\s\\S]*<!-- ${MARKER}:END -->`);
  if (!re.test(readme)) throw new Error(`bench/README.md has no ${MARKER} markers`);
  await writeFile(file, readme.replace(re, `<!-- ${MARKER}:START -->\n${section}\n<!-- ${MARKER}:END -->`));
}
process.exit(0);
