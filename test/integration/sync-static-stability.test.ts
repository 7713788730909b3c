import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, type CliProcess } from '../support/cli.js';
import { tempDir } from '../support/cp-harness.js';

const REDIS_BIN = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);
const ADMIN_KEY = 'pk-static-stability-admin-0123456789abcdef';
const DP_TOKEN = 'tgdp-static-stability-token-0123456789abcdef0123';
const SECRET = 'sk-static-stability-provider-secret-0123456789';

/**
 * Static stability with real processes: `tollgate control-plane`, `tollgate gateway` and
 * `redis-server`, each killed (SIGKILL) and restarted in several orders. The probe request proves the
 * gateway still holds its synced state: a known API key passes auth (an unknown one gets 401) and the
 * virtual key resolves and decrypts (its custom_host is then refused by the allowlist, 400, before
 * any upstream call). A revoked key must get 401.
 */
describe.skipIf(!REDIS_BIN)('static stability: control plane, Redis and gateway killed and restarted', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let cpPort: number;
  let redisPort: number;
  let cp: CliProcess | undefined;
  let redis: ChildProcess | undefined;
  const gateways = new Set<CliProcess>();
  let vkSlug = '';
  let serviceKey = '';

  const cpUrl = () => `http://127.0.0.1:${cpPort}`;
  const env = { TOLLGATE_ADMIN_API_KEY: ADMIN_KEY, TOLLGATE_DATA_PLANE_TOKEN: DP_TOKEN };

  async function startCp() {
    cp = runCli(['control-plane', '--port', String(cpPort), '--data-dir', join(tmp.dir, 'cp')], env);
    await cp.waitFor('control plane listening');
  }
  async function killCp() {
    await cp?.stop('SIGKILL');
    cp = undefined;
  }
  async function startRedis() {
    redis = spawn(REDIS_BIN!, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect(redisPort, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('redis did not start');
  }
  async function killRedis() {
    if (!redis) return;
    const exited = new Promise((r) => redis!.once('exit', r));
    redis.kill('SIGKILL');
    await exited;
    redis = undefined;
  }
  async function startGateway(extraEnv: Record<string, string> = {}, cache: 'redis' | 'memory' = 'redis') {
    const port = await freePort();
    const args = ['gateway', '--port', String(port), '--control-plane-url', cpUrl(), '--keyring-file', join(tmp.dir, 'cp', 'keyring.json'), '--sync-interval', '1'];
    if (cache === 'redis') args.push('--cache', 'redis', '--redis-url', `redis://127.0.0.1:${redisPort}`);
    const gw = runCli(args, { ...env, TOLLGATE_CUSTOM_HOST_ALLOWLIST: 'allowed.example', ...extraEnv });
    gateways.add(gw);
    await gw.waitFor('gateway listening');
    return { proc: gw, url: `http://127.0.0.1:${port}` };
  }
  async function killGateway(gw: { proc: CliProcess }) {
    await gw.proc.stop('SIGKILL');
    gateways.delete(gw.proc);
  }

  async function admin(method: string, path: string, body?: unknown) {
    const res = await fetch(`${cpUrl()}/v1${path}`, {
      method,
      headers: { 'x-portkey-api-key': ADMIN_KEY, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    return res.json() as Promise<any>;
  }

  /** 'state': the key and virtual key resolved; 'unauthorized': 401; anything else: the status. */
  async function probe(url: string, key = serviceKey): Promise<string> {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': key, 'x-portkey-virtual-key': vkSlug },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    if (res.status === 401) return 'unauthorized';
    if (res.status === 400 && text.includes('allowlist')) return 'state';
    return `${res.status} ${text.slice(0, 200)}`;
  }
  async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const health = async (url: string) => {
    const res = await fetch(`${url}/v1/health`);
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    tmp = await tempDir('tollgate-static-');
    [cpPort, redisPort] = [await freePort(), await freePort()];
    await startCp();
    await startRedis();
    const vk = await admin('POST', '/virtual-keys', { name: 'static', provider: 'openai', key: SECRET, custom_host: 'https://upstream.invalid/v1' });
    vkSlug = vk.slug;
    serviceKey = (await admin('POST', '/api-keys/organisation/service', { name: 'svc', scopes: ['completions.write'] })).key;
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...gateways].map((g) => g.stop('SIGKILL')));
    await killCp();
    await killRedis();
    await tmp?.cleanup();
  });

  it('CP down → serves; gateway restarted while CP down → boots from Redis (and a second gateway shares it); Redis down too → serves from memory; both back → recovers', async () => {
    const a = await startGateway();
    expect(await probe(a.url)).toBe('state');
    expect(await probe(a.url, 'pk-unknown-key')).toBe('unauthorized');
    await eventually(async () => (await health(a.url)).body.cache.persistedVersion > 0);

    await killCp();
    expect(await probe(a.url)).toBe('state');
    await eventually(async () => (await health(a.url)).body.sync.state === 'stale');
    expect((await health(a.url)).status).toBe(200); // no staleness limit by default

    // Restart the gateway while the control plane is down: it boots from the Redis copy.
    await killGateway(a);
    const b = await startGateway();
    const c = await startGateway(); // a second task sharing the same Redis
    for (const gw of [b, c]) {
      expect(await probe(gw.url)).toBe('state');
      expect((await health(gw.url)).body.sync).toMatchObject({ source: 'cache', state: 'stale' });
    }
    await killGateway(c);

    // Redis goes down too: still serving from memory; the cache is reported down.
    await killRedis();
    expect(await probe(b.url)).toBe('state');
    await eventually(async () => (await health(b.url)).body.cache.state === 'down');

    // The control plane comes back: the gateway syncs and picks up a revocation; Redis is still down.
    await startCp();
    await eventually(async () => (await health(b.url)).body.sync.state === 'ok');
    const doomed = (await admin('POST', '/api-keys/organisation/service', { name: 'doomed', scopes: ['completions.write'] })).key as string;
    await eventually(async () => (await probe(b.url, doomed)) === 'state');
    const list = await admin('GET', '/api-keys');
    const doomedId = list.data.find((k: any) => k.name === 'doomed').id;
    await admin('DELETE', `/api-keys/${doomedId}`);
    await eventually(async () => (await probe(b.url, doomed)) === 'unauthorized', 5_000);

    // Redis comes back: the cache recovers and catches up with the current version, untouched by us.
    await startRedis();
    await eventually(async () => {
      const h = await health(b.url);
      return h.body.cache.state === 'ok' && h.body.cache.persistedVersion === h.body.sync.syncedVersion;
    }, 30_000);
    await killGateway(b);
  });

  it('Redis down at boot with the control plane up → syncs from the control plane and serves; then Redis returns', async () => {
    await killRedis();
    const d = await startGateway();
    expect(await probe(d.url)).toBe('state');
    expect((await health(d.url)).body.sync.source).toBe('control-plane');
    await startRedis();
    await eventually(async () => (await health(d.url)).body.cache.state === 'ok', 30_000);
    await killGateway(d);
  });

  it('no Redis: an encrypted snapshot file (0600) lets a restarted gateway serve while the control plane is down', async () => {
    const file = join(tmp.dir, 'gw', 'snapshot.enc');
    const e = await startGateway({ TOLLGATE_SNAPSHOT_FILE: file }, 'memory');
    expect(await probe(e.url)).toBe('state');
    await eventually(async () => existsSync(file));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const content = await readFile(file, 'utf8');
    expect(content).not.toContain(SECRET);
    expect(content).not.toContain(vkSlug); // the whole file is an Encryption SDK message
    await killGateway(e);

    await killCp();
    const f = await startGateway({ TOLLGATE_SNAPSHOT_FILE: file, TOLLGATE_MAX_SYNC_AGE: '3' }, 'memory');
    expect(await probe(f.url)).toBe('state');
    // With a staleness limit, health turns 503 once the state is older than it; serving goes on.
    await eventually(async () => (await health(f.url)).status === 503, 10_000);
    expect((await health(f.url)).body.status).toBe('stale');
    expect(await probe(f.url)).toBe('state');
    const metrics = await (await fetch(`${f.url}/metrics`)).text();
    expect(metrics).toMatch(/^tollgate_sync_age_seconds \d+(\.\d+)?$/m);
    expect(metrics).toMatch(/^tollgate_sync_state\{state="stale"\} 1$/m);

    await startCp();
    await eventually(async () => (await health(f.url)).status === 200);
    await killGateway(f);
  });
});
