/**
 * What telemetry costs the gateway: CPU µs per request of the gateway process alone (utime+stime
 * from /proc/<pid>/stat), with TOLLGATE_TELEMETRY on and off, in alternating rounds of one run.
 * The gateway is the esbuild bundle the DataPlane image runs; the mock upstream and the control
 * plane (which ingests the metric records) are separate processes and are not counted. With
 * telemetry on, the window closes only after the gateway reports every record delivered, so
 * building, batching, serialising and posting them are all inside it. Every gateway of a round is
 * asked for its stats (`GET /v1/telemetry`) alike, during the settle, before the window and in the
 * polls after it: asking only the "on" one once, just before the window, deoptimised its HTTP
 * server code there and read +6.9% with telemetry's per-request work switched off (bench/README.md,
 * issue 6, ninth session).
 *   node ./bin/run-ts.mjs bench/telemetry-cpu.ts
 * Load is open-loop at a fixed RATE, the same for both modes: at saturation the mode with less
 * CPU left (telemetry on, with the control plane ingesting on the same cores) serves fewer
 * requests per event-loop turn and pays more syscalls per request, which is not telemetry's work.
 * PAIRED=1 runs an `on` and an `off` gateway side by side in each round, each driven at RATE with
 * the same load at the same time: on a machine shared with other work, load swings between rounds
 * move alternating rounds by ±20%, while both gateways of a pair see the same machine.
 *   env: REQUESTS per round (default 15000), RATE req/s (default 1000; 0 = closed loop at CONCURRENCY),
 *        ROUNDS (default 3), CONCURRENCY (default 16), PAIRED (1: side by side, see above),
 *        SETTLE (requests sent at RATE after the closed-loop warm-up and before the window, default
 *        10000: see below),
 *        CPU_PROF_DIR (write a V8 CPU profile of each gateway there; CPU_PROF_INTERVAL µs, default 1000),
 *        GATEWAY_BUNDLE (use this bundle), GATEWAY_NODE (run it with this Node binary: the image runs Node 22),
 *        PIN_GATEWAYS=<cpu list> (taskset the gateways there; run the bench itself under `taskset -c <the others>`
 *        so the control plane, the mock upstream and the load are not on the gateways' cores), AA=1 (PAIRED with telemetry off in both slots: the method's own
 *        bias and spread). PAIRED rounds alternate which slot runs telemetry: with both off, the slot
 *        started and driven first cost up to 6% more.
 * The window measures the steady state: after the closed-loop warm-up, SETTLE requests at RATE
 * first. Switching from the warm-up's closed loop to the window's open loop (more connections,
 * other timers) made V8 deoptimise and recompile ~100 functions inside the window (--trace-opt:
 * 400–460 ms of compiler time a round, ~25 µs a request, in both modes), and telemetry's batch
 * paths had run only 4 times by then; with 20,000 settling requests it was 20–56 ms in both.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { chatHeaders, sendAtRate as sendAtRateOf, sendClosedLoop, startGatewayBundle } from './lib/gateway-load.js';
import { bundleGateway, cpuMicros, cpuSplitMicros, startBenchStack, syscallCounts, threadSplitMicros } from './lib/stack.js';
import { median } from './lib/stats.js';

const REQUESTS = Number(process.env.REQUESTS ?? 15_000);
const RATE = Number(process.env.RATE ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const WARMUP = Number(process.env.WARMUP ?? 2000);
const SETTLE = Number(process.env.SETTLE ?? 10_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startGateway(bundle: string, cpUrl: string, dataDir: string, token: string, telemetry: boolean) {
  const prof = process.env.CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-interval=${process.env.CPU_PROF_INTERVAL ?? 1000}`, `--cpu-prof-dir=${process.env.CPU_PROF_DIR}`, `--cpu-prof-name=gateway-${telemetry ? 'on' : 'off'}-${Date.now()}.cpuprofile`] : [];
  return startGatewayBundle(bundle, { controlPlaneUrl: cpUrl, dataPlaneToken: token, dataDir, telemetry, nodeArgs: prof, pinCpus: process.env.PIN_GATEWAYS });
}

const sendAll = (pool: Pool, headers: Record<string, string>, n: number) => sendClosedLoop(pool, headers, n, CONCURRENCY);
const sendAtRate = (pool: Pool, headers: Record<string, string>, n: number) => (RATE ? sendAtRateOf(pool, headers, n, RATE) : sendAll(pool, headers, n));

const sent = async (url: string) => ((await (await fetch(`${url}/v1/telemetry`)).json()) as { metrics: { sentItems: number } }).metrics.sentItems;

/**
 * Sends `n` requests at RATE while asking every gateway of the round for its stats once a second,
 * as the window's delivery polls and an operator's scrapes do. A stats answer is another response
 * shape for the server's shared code: the first one made V8 deoptimise ~20 functions of the HTTP
 * server path, which then ran deoptimised and were recompiled inside the window. Asked during the
 * settle, the window starts with code that has seen both.
 */
async function settleWithScrapes(pools: Pool[], urls: string[], headers: Record<string, string>, n: number) {
  let done = false;
  const scrapes = (async () => {
    while (!done) {
      await Promise.all(urls.map(sent));
      await sleep(1000);
    }
  })();
  try {
    await Promise.all(pools.map((p) => sendAtRate(p, headers, n)));
  } finally {
    done = true;
    await scrapes;
  }
}

async function round(bundle: string, cpUrl: string, dataDir: string, token: string, headers: Record<string, string>, telemetry: boolean) {
  const gw = await startGateway(bundle, cpUrl, dataDir, token, telemetry);
  try {
    const pool = new Pool(gw.url, { connections: CONCURRENCY });
    await sendAll(pool, headers, WARMUP); // JIT warm-up, keep-alive, first batches
    if (SETTLE) await settleWithScrapes([pool], [gw.url], headers, SETTLE);
    await sleep(3500);
    // Asked in both modes: a stats request is work the gateway does (see settleWithScrapes).
    const sentBefore = await sent(gw.url);
    const before = await cpuMicros(gw.proc.pid!);
    const started = performance.now();
    await sendAtRate(pool, headers, REQUESTS);
    const elapsed = performance.now() - started;
    // Until every record of the window is delivered (one flush interval at most); when off, as long, asked alike.
    const deadline = Date.now() + 15_000;
    if (telemetry) while ((await sent(gw.url)) - sentBefore < REQUESTS && Date.now() < deadline) await sleep(200);
    else for (let i = 0; i < 16; i++) await Promise.all([sent(gw.url), sleep(200)]);
    const cpu = (await cpuMicros(gw.proc.pid!)) - before;
    const delivered = telemetry ? (await sent(gw.url)) - sentBefore : 0;
    await pool.close();
    return { cpu_us_per_request: cpu / REQUESTS, rps: (REQUESTS / elapsed) * 1000, delivered };
  } finally {
    gw.proc.kill('SIGTERM');
    await sleep(300);
  }
}

/** One PAIRED round: both gateways at once, the same load, CPU over the same window. */
async function pairedRound(bundle: string, cpUrl: string, dataDir: string, token: string, headers: Record<string, string>, onFirst: boolean) {
  // AA=1 runs telemetry off in both slots: the method's own bias and noise, which any on/off figure is read against.
  const aa = process.env.AA === '1';
  // The slot started, and driven, first costs a few % more even with both off (AA=1): rounds alternate the slots.
  const started = await Promise.all([startGateway(bundle, cpUrl, dataDir, token, onFirst && !aa), startGateway(bundle, cpUrl, dataDir, token, !onFirst && !aa)]);
  const [on, off] = onFirst ? started : [started[1], started[0]];
  try {
    const slotPools = started.map((gw) => new Pool(gw.url, { connections: CONCURRENCY }));
    await Promise.all(slotPools.map((p) => sendAll(p, headers, WARMUP)));
    if (SETTLE) await settleWithScrapes(slotPools, started.map((gw) => gw.url), headers, SETTLE);
    await sleep(3500);
    // Both gateways are asked: the "on" one alone used to be, just before the window (see settleWithScrapes).
    const sentBefore = (await Promise.all([sent(on.url), sent(off.url)]))[0];
    const before = await Promise.all([cpuSplitMicros(on.proc.pid!), cpuSplitMicros(off.proc.pid!)]);
    const ioBefore = await Promise.all([syscallCounts(on.proc.pid!), syscallCounts(off.proc.pid!)]);
    const threadsBefore = await Promise.all([threadSplitMicros(on.proc.pid!), threadSplitMicros(off.proc.pid!)]);
    await Promise.all(slotPools.map((p) => sendAtRate(p, headers, REQUESTS)));
    const deadline = Date.now() + 15_000;
    if (aa) for (let i = 0; i < 5; i++) await Promise.all([sent(on.url), sent(off.url), sleep(200)]);
    // The off gateway is asked the same question as often: each poll is a request the gateway serves.
    else while ((await Promise.all([sent(on.url), sent(off.url)]))[0] - sentBefore < REQUESTS && Date.now() < deadline) await sleep(200);
    const after = await Promise.all([cpuSplitMicros(on.proc.pid!), cpuSplitMicros(off.proc.pid!)]);
    const ioAfter = await Promise.all([syscallCounts(on.proc.pid!), syscallCounts(off.proc.pid!)]);
    const threadsAfter = await Promise.all([threadSplitMicros(on.proc.pid!), threadSplitMicros(off.proc.pid!)]);
    const delivered = aa ? REQUESTS : (await Promise.all([sent(on.url), sent(off.url)]))[0] - sentBefore;
    await Promise.all(slotPools.map((p) => p.close()));
    // Syscalls per request: a difference here is the kernel's work (loopback TCP), not telemetry's code.
    const perRequest = (i: number) => ({
      reads: Math.round(((ioAfter[i].reads - ioBefore[i].reads) / REQUESTS) * 100) / 100,
      writes: Math.round(((ioAfter[i].writes - ioBefore[i].writes) / REQUESTS) * 100) / 100,
    });
    const cpu = (i: number) => (after[i].user + after[i].system - before[i].user - before[i].system) / REQUESTS;
    const split = (i: number) => ({ user: (after[i].user - before[i].user) / REQUESTS, system: (after[i].system - before[i].system) / REQUESTS });
    // The main thread runs the JavaScript; the others are V8's compiler and GC helpers and libuv's pool.
    const threads = (i: number) => ({
      main: (threadsAfter[i].main - threadsBefore[i].main) / REQUESTS,
      helpers: (threadsAfter[i].helpers - threadsBefore[i].helpers) / REQUESTS,
    });
    return { on: cpu(0), off: cpu(1), delivered, split: { on: split(0), off: split(1) }, threads: { on: threads(0), off: threads(1) }, syscalls: { on: perRequest(0), off: perRequest(1) } };
  } finally {
    on.proc.kill('SIGTERM');
    off.proc.kill('SIGTERM');
    await sleep(300);
  }
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-bench-telemetry-'));
  const processes: ChildProcess[] = [];
  try {
    const { credentials: creds, configSlug: slug } = await startBenchStack(dataDir, processes);
    const headers = chatHeaders(creds.adminApiKey, slug);
    const bundle = process.env.GATEWAY_BUNDLE || join(dataDir, 'gateway.mjs');
    if (!process.env.GATEWAY_BUNDLE) bundleGateway(bundle);

    if (process.env.PAIRED === '1') {
      const pairs: { on: number; off: number; delivered: number; split: unknown; threads: unknown; syscalls: unknown }[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const res = await pairedRound(bundle, creds.controlPlaneUrl, dataDir, creds.dataPlaneToken, headers, r % 2 === 0);
        if (res.delivered < REQUESTS) throw new Error(`only ${res.delivered} of ${REQUESTS} records were delivered`);
        pairs.push(res);
        process.stderr.write(`pair ${r + 1}: on ${res.on.toFixed(1)}, off ${res.off.toFixed(1)} µs CPU/request (+${((res.on / res.off - 1) * 100).toFixed(1)}%), user/system µs ${JSON.stringify(res.split)}, threads µs ${JSON.stringify(res.threads)}, syscalls/request ${JSON.stringify(res.syscalls)}\n`);
      }
      const round1 = (x: number) => Math.round(x * 10) / 10;
      console.log(JSON.stringify({
        paired: true, requests_per_round: REQUESTS, warmup: WARMUP, settle: SETTLE, rate_per_gateway: RATE || 'closed loop', rounds: ROUNDS,
        cpu_us_per_request: { off: round1(median(pairs.map((p) => p.off))), on: round1(median(pairs.map((p) => p.on))) },
        telemetry_overhead_percent_median_of_pairs: round1(median(pairs.map((p) => (p.on / p.off - 1) * 100))),
        pairs,
      }));
      return;
    }
    const results: Record<'off' | 'on', { cpu_us_per_request: number; rps: number; delivered: number }[]> = { off: [], on: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const mode of r % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        const res = await round(bundle, creds.controlPlaneUrl, dataDir, creds.dataPlaneToken, headers, mode === 'on');
        if (mode === 'on' && res.delivered < REQUESTS) throw new Error(`only ${res.delivered} of ${REQUESTS} records were delivered`);
        results[mode].push(res);
        process.stderr.write(`round ${r + 1} telemetry ${mode}: ${res.cpu_us_per_request.toFixed(1)} µs CPU/request, ${res.rps.toFixed(0)} req/s\n`);
      }
    }
    const off = median(results.off.map((x) => x.cpu_us_per_request));
    const on = median(results.on.map((x) => x.cpu_us_per_request));
    console.log(JSON.stringify({
      requests_per_round: REQUESTS, warmup: WARMUP, settle: SETTLE, rate: RATE || 'closed loop', rounds: ROUNDS, concurrency: CONCURRENCY,
      cpu_us_per_request: { off: Math.round(off * 10) / 10, on: Math.round(on * 10) / 10 },
      telemetry_overhead_percent: Math.round(((on - off) / off) * 1000) / 10,
      rounds_detail: results,
    }));
  } finally {
    for (const p of processes) p.kill('SIGTERM');
    await sleep(500);
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
  }
}

await main();
