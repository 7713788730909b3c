/**
 * Gateway bundles side by side: N gateways (any mix of bundles, telemetry on or off) driven with
 * the same load at the same time, the start order rotated every round, each one's CPU µs per
 * request (utime+stime) compared with the first telemetry-off slot of the same round. Used to
 * compare versions of the telemetry code in the same minutes (bench/README.md, issue 6); the
 * issue's figure is bench/telemetry-cpu.ts.
 *   node scripts/bundle-gateway.mjs /tmp/a.mjs node20   # one bundle per version to compare
 *   SLOTS="off=/tmp/a.mjs:off,a=/tmp/a.mjs:on,b=/tmp/b.mjs:on" node ./bin/run-ts.mjs bench/telemetry-slots.ts
 * A slot may name its Node binary after a third colon (`off22=/tmp/a.mjs:off:/opt/node22/bin/node`);
 * GATEWAY_NODE sets it for every slot (bench/lib/gateway-load.ts).
 * env: REQUESTS per round (15000), RATE req/s per gateway (800), ROUNDS (4),
 *      WARM=closed (warm up closed-loop at 16 in flight, as telemetry-cpu.ts does; default: at RATE),
 *      SETTLE=n (n more requests at RATE before measuring), NODE_ARGS (extra node flags),
 *      PIN_GATEWAYS=<cpu list> (taskset the gateways there), PERF=1 (perf record -e cpu-clock of
 *      each gateway into /tmp/perf-<slot>.data; add NODE_ARGS=--perf-basic-prof-only-functions).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { chatHeaders, sendAtRate, sendClosedLoop, startGatewayBundle } from './lib/gateway-load.js';
import { cpuMicros, startBenchStack } from './lib/stack.js';
import { median } from './lib/stats.js';

const REQUESTS = Number(process.env.REQUESTS ?? 15_000);
const RATE = Number(process.env.RATE ?? 800);
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Slot {
  name: string;
  bundle: string;
  on: boolean;
  /** The Node binary (default: GATEWAY_NODE, or the bench's own). */
  node?: string;
}

function parseSlots(spec: string | undefined): Slot[] {
  const slots = (spec ?? '').split(',').filter(Boolean).map((s) => {
    const m = /^([\w-]+)=([^:]+):(on|off)(?::(.+))?$/.exec(s);
    if (!m) throw new Error(`SLOTS: expected name=bundle.mjs:on|off[:node binary], got "${s}"`);
    return { name: m[1], bundle: m[2], on: m[3] === 'on', node: m[4] };
  });
  if (!slots.some((s) => !s.on)) throw new Error('SLOTS: give at least one telemetry-off slot to compare with, e.g. off=/tmp/a.mjs:off');
  return slots;
}

function startGateway(slot: Slot, cpUrl: string, dataDir: string, token: string) {
  return startGatewayBundle(slot.bundle, {
    controlPlaneUrl: cpUrl, dataPlaneToken: token, dataDir, telemetry: slot.on, stderr: 'ignore', node: slot.node,
    nodeArgs: process.env.NODE_ARGS ? process.env.NODE_ARGS.split(' ') : [], pinCpus: process.env.PIN_GATEWAYS,
  });
}

const slots = parseSlots(process.env.SLOTS);
const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-bench-slots-'));
const processes: ChildProcess[] = [];
try {
  const { credentials: creds, configSlug } = await startBenchStack(dataDir, processes);
  const headers = chatHeaders(creds.adminApiKey, configSlug);
  const results: Record<string, number[]> = Object.fromEntries(slots.map((s) => [s.name, []]));
  const baseline = slots.find((s) => !s.on)!.name;
  for (let r = 0; r < ROUNDS; r++) {
    const order = slots.map((_, i) => slots[(i + r) % slots.length]);
    const gws = await Promise.all(order.map((s) => startGateway(s, creds.controlPlaneUrl, dataDir, creds.dataPlaneToken)));
    const pools = gws.map((g) => new Pool(g.url, { connections: 16 }));
    try {
      await Promise.all(pools.map((p) => (process.env.WARM === 'closed' ? sendClosedLoop(p, headers, 2000, 16) : sendAtRate(p, headers, 2000, RATE))));
      if (process.env.SETTLE) await Promise.all(pools.map((p) => sendAtRate(p, headers, Number(process.env.SETTLE), RATE)));
      await sleep(3500);
      const perfs = process.env.PERF
        ? order.map((s, i) => spawn('perf', ['record', '-e', 'cpu-clock', '-F', '1999', '-g', '-p', String(gws[i].proc.pid), '-o', `/tmp/perf-${s.name}.data`], { stdio: 'ignore' }))
        : [];
      const before = await Promise.all(gws.map((g) => cpuMicros(g.proc.pid!)));
      await Promise.all(pools.map((p) => sendAtRate(p, headers, REQUESTS, RATE)));
      // Telemetry ships on a 3 s timer at most: its last batch is inside the window.
      await sleep(3500);
      const after = await Promise.all(gws.map((g) => cpuMicros(g.proc.pid!)));
      for (const p of perfs) p.kill('SIGINT');
      if (perfs.length) await sleep(3000);
      order.forEach((s, i) => results[s.name].push((after[i] - before[i]) / REQUESTS));
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      for (const g of gws) g.proc.kill('SIGTERM');
      await sleep(500);
    }
    const base = results[baseline][r];
    process.stderr.write(`round ${r + 1}: ${slots.map((s) => `${s.name} ${results[s.name][r].toFixed(1)} µs (${((results[s.name][r] / base - 1) * 100).toFixed(1)}%)`).join(', ')}\n`);
  }
  console.log(JSON.stringify({
    requests_per_round: REQUESTS, rate_per_gateway: RATE, rounds: ROUNDS,
    cpu_us_per_request_median: Object.fromEntries(slots.map((s) => [s.name, Math.round(median(results[s.name]) * 10) / 10])),
    percent_vs_baseline_median: Object.fromEntries(slots.map((s) => [s.name, Math.round(median(results[s.name].map((v, i) => (v / results[baseline][i] - 1) * 100)) * 10) / 10])),
  }));
} finally {
  for (const p of processes) p.kill('SIGTERM');
  await sleep(500);
  await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
}
