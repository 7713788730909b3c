/**
 * Telemetry's own time per record, measured inside the running gateway
 * (TOLLGATE_TELEMETRY_SELF_TIME=1, runtime/gateway/telemetry/self-time.ts): record, the response
 * tap, batch encoding and the synchronous part of posting, each wrapped with a clock. It sees
 * telemetry's direct cost only (not its effect on the caches of the code around it), with far
 * less noise than whole-process CPU, so it ranks versions of the telemetry code in a few rounds;
 * the issue's figure stays bench/telemetry-cpu.ts.
 *   node scripts/bundle-gateway.mjs /tmp/a.mjs node20      # one bundle per version
 *   SLOTS="a=/tmp/a.mjs,b=/tmp/b.mjs" node ./bin/run-ts.mjs bench/telemetry-self-time.ts
 * Without SLOTS it bundles the working tree and measures that.
 * env: REQUESTS per round (15000), RATE req/s per gateway (1000), ROUNDS (3), BENCH_RESPONSE (bench/mock-upstream.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { chatHeaders, sendAtRate, sendClosedLoop, startGatewayBundle } from './lib/gateway-load.js';
import { bundleGateway, cpuMicros, startBenchStack } from './lib/stack.js';
import { median } from './lib/stats.js';

const REQUESTS = Number(process.env.REQUESTS ?? 15_000);
const RATE = Number(process.env.RATE ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SelfTime { records: number; ns_per_record: Record<string, number> }
const selfTime = async (url: string) => ((await (await fetch(`${url}/v1/telemetry`)).json()) as { self_time?: SelfTime }).self_time;

/** ns per record of each part over the window between two readings. */
function windowOf(before: SelfTime, after: SelfTime): Record<string, number> {
  const n = after.records - before.records;
  const out: Record<string, number> = {};
  for (const part of Object.keys(after.ns_per_record)) {
    out[part] = Math.round((after.ns_per_record[part] * after.records - (before.ns_per_record[part] ?? 0) * before.records) / n);
  }
  return out;
}

process.env.TOLLGATE_TELEMETRY_SELF_TIME = '1';
const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-bench-self-time-'));
const processes: ChildProcess[] = [];
try {
  const { credentials: creds, configSlug } = await startBenchStack(dataDir, processes);
  const headers = chatHeaders(creds.adminApiKey, configSlug);
  let slots = (process.env.SLOTS ?? '').split(',').filter(Boolean).map((s) => {
    const [name, bundle] = s.split('=');
    if (!name || !bundle) throw new Error(`SLOTS: expected name=bundle.mjs, got "${s}"`);
    return { name, bundle };
  });
  if (!slots.length) {
    const bundle = join(dataDir, 'gateway.mjs');
    bundleGateway(bundle);
    slots = [{ name: 'tree', bundle }];
  }
  const results: Record<string, Record<string, number>[]> = Object.fromEntries(slots.map((s) => [s.name, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(slots.map((s) => [s.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = slots.map((_, i) => slots[(i + r) % slots.length]);
    const gws = await Promise.all(order.map((s) => startGatewayBundle(s.bundle, { controlPlaneUrl: creds.controlPlaneUrl, dataPlaneToken: creds.dataPlaneToken, dataDir, telemetry: true, stderr: 'ignore' })));
    const pools = gws.map((g) => new Pool(g.url, { connections: 16 }));
    try {
      await Promise.all(pools.map((p) => sendClosedLoop(p, headers, 2000, 16)));
      await sleep(3500);
      const before = await Promise.all(gws.map((g) => selfTime(g.url)));
      const cpuBefore = await Promise.all(gws.map((g) => cpuMicros(g.proc.pid!)));
      await Promise.all(pools.map((p) => sendAtRate(p, headers, REQUESTS, RATE)));
      await sleep(3500); // the last batch is encoded and posted inside the window
      const after = await Promise.all(gws.map((g) => selfTime(g.url)));
      const cpuAfter = await Promise.all(gws.map((g) => cpuMicros(g.proc.pid!)));
      order.forEach((s, i) => {
        if (!before[i] || !after[i]) throw new Error(`${s.bundle} reports no self_time: is it a bundle with self-time.ts?`);
        results[s.name].push(windowOf(before[i]!, after[i]!));
        cpu[s.name].push((cpuAfter[i] - cpuBefore[i]) / REQUESTS);
      });
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      for (const g of gws) g.proc.kill('SIGTERM');
      await sleep(500);
    }
    process.stderr.write(`round ${r + 1}: ${slots.map((s) => `${s.name} ${JSON.stringify(results[s.name][r])} (process ${cpu[s.name][r].toFixed(1)} µs)`).join('; ')}\n`);
  }
  console.log(JSON.stringify({
    requests_per_round: REQUESTS, rate_per_gateway: RATE, rounds: ROUNDS,
    telemetry_ns_per_record_median: Object.fromEntries(slots.map((s) => [s.name, Object.fromEntries(Object.keys(results[s.name][0]).map((k) => [k, median(results[s.name].map((x) => x[k]))]))])),
    process_cpu_us_per_request_median: Object.fromEntries(slots.map((s) => [s.name, Math.round(median(cpu[s.name]) * 10) / 10])),
  }));
} finally {
  for (const p of processes) p.kill('SIGTERM');
  await sleep(500);
  await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
}
