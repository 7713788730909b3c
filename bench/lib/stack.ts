import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * What the gateway benches share: a mock upstream and a `tollgate control-plane` as separate
 * processes, a saved config pointing at the mock, and the gateway bundle the DataPlane image runs.
 */

const root = new URL('../..', import.meta.url).pathname;

/** A TypeScript entry of this repo in its own Node process; stdout is piped for `firstLine`. */
export function child(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [join(root, 'bin/run-ts.mjs'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

export async function firstLine(proc: ChildProcess, match: (line: string) => boolean): Promise<string> {
  for await (const line of createInterface({ input: proc.stdout! })) if (match(line)) return line;
  throw new Error('process exited before it was ready');
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** utime+stime of a process and its direct children (cluster workers), in µs. */
export async function cpuMicros(pid: number): Promise<number> {
  const { user, system } = await cpuSplitMicros(pid);
  return user + system;
}

/** User and system CPU µs of a process and its children so far (utime, stime from /proc). */
export async function cpuSplitMicros(pid: number): Promise<{ user: number; system: number }> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').then((t) => t.trim().split(/\s+/).filter(Boolean).map(Number), () => []);
  let user = 0;
  let system = 0;
  for (const p of [pid, ...children]) {
    const stat = await readFile(`/proc/${p}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    user += Number(fields[11]) * 10_000;
    system += Number(fields[12]) * 10_000;
  }
  return { user, system };
}

/**
 * CPU µs of a process's main thread (its JavaScript) and of all its other threads (V8's compiler
 * and GC helpers, libuv's pool), from /proc/<pid>/task/<tid>/stat.
 */
export async function threadSplitMicros(pid: number): Promise<{ main: number; helpers: number }> {
  const tids = await readdir(`/proc/${pid}/task`);
  let main = 0;
  let helpers = 0;
  for (const tid of tids) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const us = (Number(fields[11]) + Number(fields[12])) * 10_000;
    if (tid === String(pid)) main += us;
    else helpers += us;
  }
  return { main, helpers };
}

/** Read and write syscalls (all threads) of a process so far, from /proc/<pid>/io. */
export async function syscallCounts(pid: number): Promise<{ reads: number; writes: number }> {
  const io = await readFile(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? NaN);
  return { reads: field('syscr'), writes: field('syscw') };
}

export interface BenchStack {
  upstream: ChildProcess;
  upstreamPort: number;
  controlPlane: ChildProcess;
  credentials: { adminApiKey: string; dataPlaneToken: string; controlPlaneUrl: string };
  /** Slug of the saved config that routes to the mock upstream. */
  configSlug: string;
}

/** Starts the mock upstream and the control plane (pushed onto `processes` for the caller to stop) and saves the bench config. */
export async function startBenchStack(dataDir: string, processes: ChildProcess[]): Promise<BenchStack> {
  const upstream = child(['bench/mock-upstream.ts']);
  processes.push(upstream);
  const { port: upstreamPort } = JSON.parse(await firstLine(upstream, (l) => l.startsWith('{'))) as { port: number };
  // As deployed: the control plane and the gateway are separate processes.
  const controlPlane = child(['bin/cli.ts', 'control-plane', '--port', String(await freePort()), '--data-dir', dataDir]);
  processes.push(controlPlane);
  await firstLine(controlPlane, (l) => l.includes('control plane listening'));
  const credentials = JSON.parse(await readFile(join(dataDir, 'credentials.json'), 'utf8')) as BenchStack['credentials'];
  // A saved config pointing at the mock: the gateway resolves it from its synced state per request.
  const created = await fetch(`${credentials.controlPlaneUrl}/v1/configs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-portkey-api-key': credentials.adminApiKey },
    body: JSON.stringify({ name: 'bench', config: { provider: 'openai', api_key: 'sk-bench-upstream', custom_host: `http://127.0.0.1:${upstreamPort}/v1` } }),
  });
  if (!created.ok) throw new Error(`creating the bench config failed: ${created.status} ${await created.text()}`);
  const { slug } = (await created.json()) as { slug: string };
  return { upstream, upstreamPort, controlPlane, credentials, configSlug: slug };
}

/** The esbuild bundle the DataPlane image runs (scripts/bundle-gateway.mjs), written to `path`. */
export function bundleGateway(path: string): string {
  execFileSync(process.execPath, [join(root, 'scripts/bundle-gateway.mjs'), path, `node${process.versions.node.split('.')[0]}`], { stdio: 'inherit' });
  return path;
}
