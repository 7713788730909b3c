/**
 * Tollgate against the floor and against Portkey's OSS gateway, in one run on one machine:
 *   - the mock called directly (bench/gateway-compare-mock.ts);
 *   - a bare pass-through proxy, node:http + undici Pool and no logic (bench/gateway-bare-proxy.ts): the floor;
 *   - Tollgate (bench/gateway-compare-tollgate.ts: API key, saved config, the full hot path), bundled
 *     with scripts/bundle-gateway.mjs as the DataPlane image is, and run by plain node;
 *   - Portkey's gateway (@portkey-ai/gateway 1.15, `build/start-server.js --headless`), pointed at
 *     the mock with x-portkey-provider + x-portkey-custom-host.
 * Each in its own process. For JSON and for SSE streams: p50/p99 at concurrency 1 (hrtime, one
 * keep-alive connection), throughput and p99 at concurrency 50 (autocannon), then every proxy is
 * topped up to 100k requests and its resident memory read from /proc.
 * `BENCH_WRITE=1` writes the table into bench/README.md between the COMPARE markers.
 */
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';

const LATENCY_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const RSS_AFTER = Number(process.env.BENCH_RSS_REQUESTS ?? 100_000);
const root = new URL('..', import.meta.url).pathname;
const messages = [{ role: 'user', content: 'Say hello.' }];
const bodies = {
  json: JSON.stringify({ model: 'gpt-4o-mini', messages }),
  stream: JSON.stringify({ model: 'gpt-4o-mini', messages, stream: true }),
};
type Mode = keyof typeof bodies;

function start(args: string[], env: Record<string, string> = {}, ts = true): ChildProcess {
  const argv = ts ? [join(root, 'bin/run-ts.mjs'), ...args] : args;
  return spawn(process.execPath, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function port(proc: ChildProcess): Promise<number> {
  const lines = createInterface({ input: proc.stdout! });
  for await (const line of lines) if (line.startsWith('{')) return (JSON.parse(line) as { port: number }).port;
  throw new Error('process exited before it was ready');
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitFor(url: string, headers: Record<string, string>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(url, { method: 'POST', headers, body: bodies.json });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered 200`);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function sequential(origin: string, headers: Record<string, string>, mode: Mode) {
  const pool = new Pool(origin, { connections: 1, pipelining: 1 });
  const send = async () => {
    const res = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body: bodies[mode] });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${origin} answered ${res.statusCode}: ${text.slice(0, 300)}`);
    if (mode === 'stream' && !text.includes('[DONE]')) throw new Error(`${origin}: stream without [DONE]`);
  };
  for (let i = 0; i < 200; i++) await send();
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_REQUESTS; i++) {
    const t = process.hrtime.bigint();
    await send();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  await pool.close();
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), requests: LATENCY_REQUESTS + 200 };
}

/** utime + stime of a process in µs (/proc/<pid>/stat, clock ticks of 10 ms). */
async function cpuMicros(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function load(origin: string, headers: Record<string, string>, mode: Mode, opts: { duration?: number; amount?: number }, pid?: number) {
  const cpuBefore = pid ? await cpuMicros(pid) : 0;
  const result = await autocannon({ url: `${origin}/v1/chat/completions`, method: 'POST', headers, body: bodies[mode], connections: 50, ...opts });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${origin}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  // CPU time per request of the server under test: unlike req/s, it barely moves when other work shares the cores.
  const cpuPerRequest = pid ? ((await cpuMicros(pid)) - cpuBefore) / result.requests.total : NaN;
  return { rps: result.requests.average, p99: result.latency.p99, requests: result.requests.total, cpuPerRequest };
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

interface Target {
  name: string;
  origin: string;
  headers: Record<string, string>;
  proc?: ChildProcess;
  requests: number;
  results: Partial<Record<Mode, { p50: number; p99c1: number; rps: number; p99c50: number; cpu: number }>>;
  failures: Partial<Record<Mode, string>>;
  rss?: number;
}

async function main() {
  const mock = start(['bench/gateway-compare-mock.ts']);
  const upstream = `http://127.0.0.1:${await port(mock)}`;
  const bare = start(['bench/gateway-bare-proxy.ts'], { UPSTREAM: upstream });
  // Tollgate runs as it ships: bundled by the image's esbuild script (no TypeScript loader in the process).
  const bundleDir = await mkdtemp(join(tmpdir(), 'tollgate-compare-bundle-'));
  const bundle = join(bundleDir, 'tollgate.mjs');
  execFileSync(process.execPath, [join(root, 'scripts/bundle-gateway.mjs'), bundle, `node${process.versions.node.split('.')[0]}`, join(root, 'bench/gateway-compare-tollgate.ts')], { stdio: 'inherit' });
  const tollgate = start([bundle], { UPSTREAM: upstream }, false);
  const portkeyPort = await freePort();
  const portkey = start([join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${portkeyPort}`, '--headless'], { NODE_ENV: 'production' }, false);
  const auth = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-upstream' };
  const targets: Target[] = [
    { name: 'mock, direct', origin: upstream, headers: auth, proc: mock, requests: 0, results: {}, failures: {} },
    { name: 'bare proxy (floor)', origin: `http://127.0.0.1:${await port(bare)}`, headers: auth, proc: bare, requests: 0, results: {}, failures: {} },
    { name: 'Tollgate', origin: `http://127.0.0.1:${await port(tollgate)}`, headers: { 'content-type': 'application/json', 'x-portkey-api-key': 'pk-bench-key-0123456789', 'x-portkey-config': 'bench' }, proc: tollgate, requests: 0, results: {}, failures: {} },
    { name: 'Portkey OSS 1.15', origin: `http://127.0.0.1:${portkeyPort}`, headers: { ...auth, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstream}/v1` }, proc: portkey, requests: 0, results: {}, failures: {} },
  ];
  try {
    for (const t of targets) await waitFor(`${t.origin}/v1/chat/completions`, t.headers);
    for (const mode of ['json', 'stream'] as Mode[]) {
      for (const t of targets) {
        process.stderr.write(`${mode}: ${t.name}...\n`);
        try {
          const c1 = await sequential(t.origin, t.headers, mode);
          const c50 = await load(t.origin, t.headers, mode, { duration: DURATION_S }, t.proc?.pid);
          t.requests += c1.requests + c50.requests;
          t.results[mode] = { p50: c1.p50, p99c1: c1.p99, rps: c50.rps, p99c50: c50.p99, cpu: c50.cpuPerRequest };
        } catch (err) {
          if (t === targets[2] || t === targets[1] || t === targets[0]) throw err;
          t.failures[mode] = (err as Error).message.slice(0, 160);
        }
      }
    }
    for (const t of targets.slice(1)) {
      if (t.requests < RSS_AFTER) {
        process.stderr.write(`${t.name}: topping up to ${RSS_AFTER} requests...\n`);
        t.requests += (await load(t.origin, t.headers, 'json', { amount: RSS_AFTER - t.requests })).requests;
      }
      t.rss = await rssMb(t.proc!.pid!);
    }
  } finally {
    for (const t of targets) t.proc?.kill('SIGTERM');
    await rm(bundleDir, { recursive: true, force: true });
  }

  const direct = targets[0].results;
  const floor = targets[1].results;
  const f = (n: number, d = 2) => n.toFixed(d);
  const lines: string[] = [];
  for (const mode of ['json', 'stream'] as Mode[]) {
    lines.push('', `**${mode === 'json' ? 'JSON (non-streaming)' : 'SSE stream (12 events)'}**`, '');
    lines.push('| | p50 c=1 (ms) | added p50 (ms) | p99 c=1 (ms) | req/s c=50 | % of floor | p99 c=50 (ms) | CPU µs/req c=50 |', '|---|---|---|---|---|---|---|---|');
    for (const t of targets) {
      const r = t.results[mode];
      if (!r) {
        lines.push(`| ${t.name} | failed: ${t.failures[mode]?.replace(/\|/g, '/') ?? '?'} | | | | | | |`);
        continue;
      }
      const added = r.p50 - direct[mode]!.p50;
      lines.push(`| ${t.name} | ${f(r.p50, 3)} | ${t === targets[0] ? '—' : `+${f(added, 3)}`} | ${f(r.p99c1, 3)} | ${f(r.rps, 0)} | ${t === targets[0] ? '—' : `${f((r.rps / floor[mode]!.rps) * 100, 1)}%`} | ${f(r.p99c50, 0)} | ${Number.isFinite(r.cpu) ? f(r.cpu, 1) : '—'} |`);
    }
  }
  const tg = targets[2];
  const check = (label: string, ok: boolean, detail: string) => `| ${label} | ${detail} | ${ok ? 'met' : '**missed**'} |`;
  const addedTg = (m: Mode) => tg.results[m]!.p50 - direct[m]!.p50;
  const addedFloor = (m: Mode) => floor[m]!.p50 - direct[m]!.p50;
  lines.push('', `Resident memory after ${RSS_AFTER.toLocaleString('en')}+ requests: ${targets.slice(1).map((t) => `${t.name} ${f(t.rss!, 0)} MB`).join(', ')}.`, '');
  lines.push('| target (issue 3) | Tollgate | |', '|---|---|---|');
  for (const m of ['json', 'stream'] as Mode[]) {
    const share = tg.results[m]!.rps / floor[m]!.rps;
    lines.push(check(`${m}: throughput ≥ 70% of the floor`, share >= 0.7, `${f(share * 100, 1)}%`));
    lines.push(check(`${m}: added p50 ≤ 2× the floor's`, addedTg(m) <= 2 * addedFloor(m), `+${f(addedTg(m), 3)} ms vs +${f(addedFloor(m), 3)} ms (${f(addedTg(m) / addedFloor(m), 2)}×)`));
    lines.push(check(`${m}: p99 c=50 ≤ 2× the floor's`, tg.results[m]!.p99c50 <= 2 * floor[m]!.p99c50, `${f(tg.results[m]!.p99c50, 0)} ms vs ${f(floor[m]!.p99c50, 0)} ms`));
  }
  lines.push(check('RSS ≤ 150 MB after 100k requests', tg.rss! <= 150, `${f(tg.rss!, 0)} MB`));
  const table = [`Run ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; ${LATENCY_REQUESTS} sequential samples, ${DURATION_S} s at c=50 per cell; mock, proxies and load generator share the machine.`, ...lines].join('\n');
  process.stdout.write(`${table}\n`);
  if (process.env.BENCH_WRITE) {
    const path = join(root, 'bench/README.md');
    const readme = await readFile(path, 'utf8');
    await writeFile(path, readme.replace(/<!-- COMPARE:START -->[\s\S]*<!-- COMPARE:END -->/, `<!-- COMPARE:START -->\n${table}\n<!-- COMPARE:END -->`));
  }
}

await main();
