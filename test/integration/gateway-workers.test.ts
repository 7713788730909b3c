import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localKeyring } from '../../runtime/adapters/local-keyring.js';
import { startFixtureSyncServer, type FixtureSyncServer } from '../support/fixture-sync-server.js';
import { startMockOpenAI } from '../support/mock-openai.js';
import type { MockServer } from '../support/mock-base.js';
import { API_KEY, CHAT_BODY, OPENAI_SECRET } from '../support/fixture-gateway.js';

/** `tollgate gateway --workers 2` as real processes: one port, two gateways, limits shared through Redis. */
const REDIS = process.env.TOLLGATE_TEST_REDIS_URL;
if (!REDIS && process.env.TOLLGATE_REQUIRE_REAL_SERVERS) throw new Error('TOLLGATE_TEST_REDIS_URL is not set');
const LIMIT = 30;

interface Cli {
  child: ChildProcess;
  url: Promise<string>;
  /** Worker pids by index, as the primary logs them (a restarted worker replaces its entry). */
  workers: Map<number, number>;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startCli(args: string[], env: Record<string, string>): Cli {
  const child = spawn(process.execPath, ['bin/tollgate.mjs', 'gateway', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const workers = new Map<number, number>();
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    try {
      const entry = JSON.parse(line) as { message?: string; worker?: number; pid?: number };
      if (entry.message === 'gateway worker listening' && entry.pid) workers.set(entry.worker!, entry.pid);
    } catch {
      // not a log line
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /gateway listening on (\S+)\/v1/.exec(line);
      if (m) resolve(m[1]);
    });
    void exited.then(({ code }) => reject(new Error(`the CLI exited with ${code}: ${stderr.join('\n')}`)));
  });
  url.catch(() => undefined); // the tests that expect an exit await `exited` instead
  return { child, url, workers, stderr, exited };
}

/** A request on a connection of its own, so the cluster hands each one to the next worker. */
function call(url: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
    req.end(body);
  });
}

const chat = (url: string, vk = 'openai-vk') => call(url, 'POST', '/v1/chat/completions', JSON.stringify(CHAT_BODY), { 'content-type': 'application/json', 'x-portkey-api-key': API_KEY, 'x-portkey-virtual-key': vk });

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('gateway --workers', () => {
  let dir: string;
  let openai: MockServer;
  let sync: FixtureSyncServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-workers-'));
    const keyring = await localKeyring(join(dir, 'keyring.json'));
    openai = await startMockOpenAI({ name: 'primary', apiKey: OPENAI_SECRET });
    // A fresh organisation per run: the rate-limit counters in the shared Redis are keyed by it.
    sync = await startFixtureSyncServer(keyring, {
      organisationId: `org_workers_${randomUUID().slice(0, 8)}`,
      apiKeys: [{ key: API_KEY }],
      virtualKeys: [
        { slug: 'openai-vk', provider: 'openai', secret: OPENAI_SECRET, options: { custom_host: `${openai.url}/v1`, rate_limits: [{ type: 'requests', unit: 'rpd', value: LIMIT }] } },
        { slug: 'free-vk', provider: 'openai', secret: OPENAI_SECRET, options: { custom_host: `${openai.url}/v1` } },
      ],
    });
    env = { TOLLGATE_DATA_PLANE_TOKEN: sync.token, TOLLGATE_TELEMETRY: 'off', TOLLGATE_GATEWAY_WORKERS: '' };
  }, 30_000);

  afterAll(async () => {
    await Promise.all([sync?.close(), openai?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const baseArgs = () => ['--port', '0', '--control-plane-url', sync.url, '--keyring-file', join(dir, 'keyring.json'), '--dev-mode'];

  it('refuses more than one worker without the shared Redis cache, saying why', async () => {
    const cli = startCli([...baseArgs(), '--workers', '2'], env);
    const { code } = await cli.exited;
    expect(code).not.toBe(0);
    expect(cli.stderr.join('\n')).toMatch(/2 workers need the shared Redis cache/);
  }, 30_000);

  it('rejects a worker count that is not a number or auto', async () => {
    const cli = startCli([...baseArgs(), '--workers', 'lots', '--cache', 'redis', '--redis-url', REDIS ?? 'redis://127.0.0.1:1'], env);
    const { code } = await cli.exited;
    expect(code).not.toBe(0);
    expect(cli.stderr.join('\n')).toMatch(/workers must be "auto" or an integer/);
  }, 30_000);

  describe.skipIf(!REDIS)('two workers sharing Redis', () => {
    let cli: Cli;
    let url: string;

    beforeAll(async () => {
      cli = startCli([...baseArgs(), '--workers', '2', '--cache', 'redis', '--redis-url', REDIS!], env);
      url = await cli.url;
    }, 60_000);

    afterAll(() => {
      if (cli?.child.exitCode === null) cli.child.kill('SIGKILL');
      for (const pid of cli?.workers.values() ?? []) if (alive(pid)) process.kill(pid, 'SIGKILL');
    });

    it('serves from both workers on one port', async () => {
      // Worker log lines are written asynchronously (pino), so they may follow the primary's "listening".
      await until('both workers to report listening', () => (cli.workers.size === 2 ? true : undefined));
      expect(cli.workers.size).toBe(2);
      const instances = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const health = await call(url, 'GET', '/v1/health');
        expect(health.status).toBe(200);
        instances.add((JSON.parse(health.text) as { instance_id: string }).instance_id);
      }
      // Each worker syncs as its own instance: two of them answered.
      expect(instances.size).toBe(2);
    }, 30_000);

    it(`admits exactly the limit of ${LIMIT} across both workers, and /metrics covers both`, async () => {
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT * 2; i++) statuses.push((await chat(url)).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
      expect(statuses.filter((s) => s === 429)).toHaveLength(LIMIT);

      const metrics = await call(url, 'GET', '/metrics');
      expect(metrics.status).toBe(200);
      const info = metrics.text.split('\n').filter((l) => l.startsWith('tollgate_gateway_info{'));
      expect(info.map((l) => /worker="(\d+)"/.exec(l)?.[1]).sort()).toEqual(['0', '1']);
      // One HELP line per family even though two workers reported it.
      expect(metrics.text.match(/^# HELP tollgate_gateway_info /gm)).toHaveLength(1);
    }, 60_000);

    it('replaces a worker that crashed, and keeps serving meanwhile', async () => {
      const victim = cli.workers.get(1)!;
      process.kill(victim, 'SIGKILL');
      // The other worker keeps answering while the primary starts a replacement (a connection handed
      // to the dead worker in the instant before the primary saw it die may be lost: retried).
      const health = await until('an answer while worker 1 is down', () => call(url, 'GET', '/v1/health').then((r) => (r.status === 200 ? r : undefined), () => undefined));
      expect(health.status).toBe(200);
      const replacement = await until('a new worker 1', () => {
        const pid = cli.workers.get(1);
        return pid && pid !== victim ? pid : undefined;
      });
      expect(alive(replacement)).toBe(true);
      await until('the primary to log the restart', () => (/gateway worker exited; starting a new one/.test(cli.stderr.join('\n')) ? true : undefined));
    }, 60_000);

    it('drains every worker and exits 0 on SIGTERM', async () => {
      const pids = [...cli.workers.values()];
      // A request in flight while SIGTERM arrives still gets its answer.
      openai.control.delayMs = 800;
      const inFlight = chat(url, 'free-vk');
      await new Promise((r) => setTimeout(r, 200));
      cli.child.kill('SIGTERM');
      const answered = await inFlight;
      openai.control.delayMs = 0;
      expect(answered.status).toBe(200);
      expect((await cli.exited).code).toBe(0);
      for (const pid of pids) expect(alive(pid)).toBe(false);
    }, 60_000);
  });
});
