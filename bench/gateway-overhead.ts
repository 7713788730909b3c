/**
 * Gateway overhead: the same requests sent to the mock upstream directly and through `tollgate dev`,
 * in one run, so the ratio is independent of how fast this machine is.
 * - latency: sequential requests (concurrency 1) timed with hrtime, p50/p99 over N requests;
 * - throughput: autocannon at concurrency 50 for D seconds.
 * Writes the table into bench/README.md between the BENCH markers.
 */
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { bundleGateway, child, cpuMicros, firstLine, freePort, startBenchStack } from './lib/stack.js';

const LATENCY_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const root = new URL('..', import.meta.url).pathname;
const requestBody = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }] });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function sequentialLatency(origin: string, path: string, headers: Record<string, string>) {
  const pool = new Pool(origin, { connections: 1, pipelining: 1 });
  const send = async () => {
    const res = await pool.request({ method: 'POST', path, headers, body: requestBody });
    if (res.statusCode !== 200) throw new Error(`${origin}${path} answered ${res.statusCode}: ${await res.body.text()}`);
    await res.body.dump();
  };
  for (let i = 0; i < 200; i++) await send(); // warm up JIT and keep-alive
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_REQUESTS; i++) {
    const start = process.hrtime.bigint();
    await send();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  await pool.close();
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** utime + stime of a process and its direct children (gateway workers) in µs (/proc/<pid>/stat, clock ticks of 10 ms). */
/** req/s at concurrency 50, and the CPU time the measured server spent per request (steady even when other work shares the cores). */
async function throughput(url: string, headers: Record<string, string>, pid: number) {
  const before = await cpuMicros(pid);
  const result = await autocannon({ url, method: 'POST', headers, body: requestBody, connections: 50, duration: DURATION_S });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, cpu: ((await cpuMicros(pid)) - before) / result.requests.total };
}

/** A throwaway redis-server for the workers row (more than one worker needs the shared Redis cache), if one is installed. */
async function startRedis(processes: ChildProcess[]): Promise<string | undefined> {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  processes.push(redis);
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      import('node:net').then(({ connect }) => {
        const s = connect(port, '127.0.0.1', () => s.end(() => resolve(true)));
        s.on('error', () => resolve(false));
      });
    });
    if (up) return `redis://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start');
}

/** The gateway as the DataPlane image runs it: the esbuild bundle of runtime/gateway/main.ts, configured by env. */
async function startGatewayProcess(bundle: string, controlPlaneUrl: string, dataDir: string, token: string, env: Record<string, string>) {
  const port = await freePort();
  const proc = spawn(process.execPath, [bundle], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      TOLLGATE_CONTROL_PLANE_URL: controlPlaneUrl,
      TOLLGATE_DATA_PLANE_TOKEN: token,
      TOLLGATE_KEYRING_FILE: join(dataDir, 'keyring.json'),
      TOLLGATE_SYNC_INTERVAL: '1',
      TOLLGATE_DEV_MODE: '1', // the mock is on loopback
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${url}/v1/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 200 || proc.exitCode !== null) throw new Error('the gateway bundle did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, url };
}

async function waitUntilServing(url: string, headers: Record<string, string>) {
  for (let i = 0; ; i++) {
    const probe = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: requestBody });
    await probe.arrayBuffer();
    if (probe.ok) return;
    if (i > 100) throw new Error(`gateway never served the bench config: ${probe.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-bench-'));
  const processes: ChildProcess[] = [];
  try {
    const { upstream, upstreamPort, credentials, configSlug: slug } = await startBenchStack(dataDir, processes);
    const gatewayHeaders = { 'content-type': 'application/json', 'x-portkey-api-key': credentials.adminApiKey, 'x-portkey-config': String(slug) };
    const directHeaders = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-upstream' };
    const upstreamOrigin = `http://127.0.0.1:${upstreamPort}`;

    // The first row is the request path alone. The others add what runs beside it: a metric record
    // per request shipped in batches to the control plane (which, on this one machine, also ingests
    // them on the same cores), then a full request/response log per request.
    // The workers row: the same request path in 2 processes behind one port (`--workers`), which
    // needs the Redis cache; for this config (no rate limits, no response cache) no request touches it.
    const redisUrl = await startRedis(processes);
    if (!redisUrl) process.stderr.write('redis-server not installed: skipping the 2-worker row\n');
    const variants: { name: string; env: Record<string, string> }[] = [
      { name: 'gateway, telemetry off', env: { TOLLGATE_TELEMETRY: 'off' } },
      ...(redisUrl
        ? [{ name: 'gateway, telemetry off, 2 workers (Redis cache)', env: { TOLLGATE_TELEMETRY: 'off', TOLLGATE_GATEWAY_WORKERS: '2', TOLLGATE_CACHE: 'redis', TOLLGATE_REDIS_URL: redisUrl } }]
        : []),
      { name: 'gateway + metrics to the control plane', env: {} },
      { name: 'gateway + metrics + full logs (file store)', env: { TOLLGATE_LOG_DIR: join(dataDir, 'logs') } },
    ];
    const bundle = bundleGateway(join(dataDir, 'gateway.mjs'));
    process.stderr.write(`direct: ${LATENCY_REQUESTS} sequential requests, then ${DURATION_S}s at concurrency 50...\n`);
    const direct = {
      latency: await sequentialLatency(upstreamOrigin, '/v1/chat/completions', directHeaders),
      ...(await throughput(`${upstreamOrigin}/v1/chat/completions`, directHeaders, upstream.pid!)),
    };
    const fmt = (n: number) => n.toFixed(3);
    const rows = [
      `| path | p50 c=1 (ms) | p99 c=1 (ms) | added p50 | added p99 | req/s c=50 | % of direct | CPU µs/req c=50 |`,
      `| --- | --- | --- | --- | --- | --- | --- | --- |`,
      `| mock, direct | ${fmt(direct.latency.p50)} | ${fmt(direct.latency.p99)} | | | ${direct.rps.toFixed(0)} | 100% | ${direct.cpu.toFixed(1)} (mock) |`,
    ];
    for (const variant of variants) {
      const gateway = await startGatewayProcess(bundle, credentials.controlPlaneUrl, dataDir, credentials.dataPlaneToken, variant.env);
      processes.push(gateway.proc);
      await waitUntilServing(gateway.url, gatewayHeaders);
      process.stderr.write(`${variant.name}: latency, then throughput...\n`);
      const latency = await sequentialLatency(gateway.url, '/v1/chat/completions', gatewayHeaders);
      if (variant.env.TOLLGATE_GATEWAY_WORKERS) {
        // The latency run's one connection warmed one worker; give the others as many requests before the throughput run.
        await autocannon({ url: `${gateway.url}/v1/chat/completions`, method: 'POST', headers: gatewayHeaders, body: requestBody, connections: 50, amount: (LATENCY_REQUESTS + 200) * Number(variant.env.TOLLGATE_GATEWAY_WORKERS) });
      }
      const { rps, cpu } = await throughput(`${gateway.url}/v1/chat/completions`, gatewayHeaders, gateway.proc.pid!);
      rows.push(
        `| ${variant.name} | ${fmt(latency.p50)} | ${fmt(latency.p99)} | +${fmt(latency.p50 - direct.latency.p50)} ms | +${fmt(latency.p99 - direct.latency.p99)} ms | ${rps.toFixed(0)} | ${((rps / direct.rps) * 100).toFixed(1)}% | ${cpu.toFixed(1)} (${variant.env.TOLLGATE_GATEWAY_WORKERS ? 'primary + workers' : 'gateway'}) |`,
      );
      gateway.proc.kill('SIGTERM');
    }
    const table = [`Run ${new Date().toISOString()} on ${(await import('node:os')).cpus().length} cores, Node ${process.version}, ${LATENCY_REQUESTS} latency samples, ${DURATION_S}s throughput runs.`, '', ...rows].join('\n');
    process.stdout.write(table + '\n');

    const readmePath = join(root, 'bench/README.md');
    const readme = await readFile(readmePath, 'utf8');
    await writeFile(readmePath, readme.replace(/<!-- BENCH:START -->[\s\S]*<!-- BENCH:END -->/, `<!-- BENCH:START -->\n${table}\n<!-- BENCH:END -->`));
  } finally {
    for (const proc of processes) proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
  }
}

await main();
