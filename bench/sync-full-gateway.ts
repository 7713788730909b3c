/**
 * The gateway side of bench/sync-full.ts, run in its own process so its time and memory are its
 * own: starts a gateway against BENCH_CP_URL, serves one request through a config whose virtual
 * keys are still sealed, waits for the background decryption, and prints one JSON line.
 * BENCH_EAGER=1 waits for every secret before the first request (the behaviour before lazy secrets).
 */
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { memoryCache } from '../runtime/adapters/memory-cache.js';
import { silentLogger } from '../runtime/core/logger.js';
import { startGateway } from '../runtime/gateway/server.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

const keyring = await localKeyring(env('BENCH_KEYRING'));
const eager = process.env.BENCH_EAGER === '1';
gc();
const before = process.memoryUsage();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const gw = await startGateway({
  port: 0,
  controlPlaneUrl: env('BENCH_CP_URL'),
  dataPlaneToken: env('BENCH_TOKEN'),
  keyring,
  cache: memoryCache(),
  devMode: true,
  logger: silentLogger,
  push: false,
  syncIntervalMs: 600_000,
});
const applied = performance.now();
const cpuApplied = process.cpuUsage(cpu0);
if (eager) await gw.secretsWarm();
const call = async (config: string) => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-portkey-api-key': env('BENCH_API_KEY'), 'x-portkey-config': config },
    body: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`probe answered ${res.status}`);
};
await call(env('BENCH_CONFIG'));
const served = performance.now();
const cpuServed = process.cpuUsage(cpu0);
if (process.env.BENCH_SERVE_ONLY === '1') {
  // Scenario runs of bench/sync-full.ts: only the path to serving.
  process.stdout.write(`${JSON.stringify({ toAppliedMs: applied - t0, toServingMs: served - t0, cpuToAppliedMs: (cpuApplied.user + cpuApplied.system) / 1000, cpuToServingMs: (cpuServed.user + cpuServed.system) / 1000 })}\n`);
  await gw.close();
  process.exit(0);
}
// Requests while the background decryption runs: routes whose keys are already open, and not.
const during: number[] = [];
for (let i = 0; i < 20; i++) {
  const s = performance.now();
  await call(`cfg-${2 + ((i * 37) % Math.max(1, Number(process.env.BENCH_CONFIGS ?? 1000) - 1))}`);
  during.push(performance.now() - s);
}
const opened = await gw.secretsWarm();
const warm = performance.now();
const cpu = process.cpuUsage(cpu0);
const status = gw.status();
gc();
const after = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({
    eager,
    toAppliedMs: applied - t0,
    toServingMs: served - t0,
    toAllDecryptedMs: warm - t0,
    lastApplyMs: status.lastApplyMs,
    duringWarmMaxMs: Math.max(...during),
    duringWarmP50Ms: during.sort((a, b) => a - b)[10],
    openedInBackground: opened,
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuToAppliedMs: (cpuApplied.user + cpuApplied.system) / 1000,
    cpuToServingMs: (cpuServed.user + cpuServed.system) / 1000,
    heapMb: mb(after.heapUsed - before.heapUsed),
    rssMb: mb(after.rss),
    rssGrowthMb: mb(after.rss - before.rss),
  })}\n`,
);
await gw.close();
process.exit(0);
