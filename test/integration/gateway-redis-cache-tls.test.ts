import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCache } from '../../runtime/adapters/redis-cache.js';
import type { TtlAwareCache } from '../../runtime/adapters/tiered-cache.js';
import { limitsOptionsFromEnv } from '../../runtime/gateway/limits/env.js';
import type { LimitsOptions } from '../../runtime/gateway/limits/index.js';

/**
 * TLS, ACL AUTH, the IAM path and cluster mode against real redis-server processes, for the cache
 * and for the shared rate limiter and budget store (which use the same connection settings).
 */
const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const runnable = existsSync(REDIS_SERVER) && existsSync(REDIS_CLI) && hasOpenssl;
if (!runnable && process.env.TOLLGATE_REQUIRE_REAL_SERVERS) throw new Error('gateway-redis-cache-tls needs redis-server, redis-cli and openssl (scripts/ensure-test-deps.sh installs them)');
if (!runnable) console.warn('gateway-redis-cache-tls: skipped, needs redis-server, redis-cli and openssl');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return true;
    await sleep(100);
  }
  return false;
}

describe.skipIf(!runnable)('redis cache adapter: TLS, AUTH, IAM, cluster', () => {
  const servers: ChildProcess[] = [];
  const caches: TtlAwareCache[] = [];
  const limits: LimitsOptions[] = [];
  let dir: string;
  let ca: string;
  let tlsPort: number;
  let clusterPort: number | undefined;
  const track = (c: TtlAwareCache) => (caches.push(c), c);

  /** A one-shard cluster: Redis refuses multi-key commands across slots (CROSSSLOT) even then. */
  async function cluster(): Promise<{ port: number; cli: (...args: string[]) => string }> {
    const cli = (...args: string[]) => execFileSync(REDIS_CLI, ['-p', String(clusterPort), '-a', 'cluster-token', '--no-auth-warning', ...args], { encoding: 'utf8' });
    if (clusterPort !== undefined) return { port: clusterPort, cli };
    clusterPort = await freePort();
    const cdir = join(dir, 'cluster');
    execFileSync('mkdir', ['-p', cdir]);
    servers.push(
      spawn(REDIS_SERVER, ['--port', String(clusterPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', join(cdir, 'nodes.conf'), '--dir', cdir, '--save', '', '--appendonly', 'no', '--requirepass', 'cluster-token'], { stdio: 'ignore' }),
    );
    expect(
      await until(async () => {
        try {
          return cli('PING').trim() === 'PONG';
        } catch {
          return false;
        }
      }),
    ).toBe(true);
    cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    expect(await until(async () => cli('CLUSTER', 'INFO').includes('cluster_state:ok'))).toBe(true);
    return { port: clusterPort, cli };
  }

  /** The gateway's limits from its environment, checked against Redis until the first connection is up. */
  async function sharedLimits(env: NodeJS.ProcessEnv) {
    const opts = limitsOptionsFromEnv({ TOLLGATE_CACHE: 'redis', TOLLGATE_RATE_LIMIT_ON_REDIS_DOWN: 'closed', ...env });
    limits.push(opts);
    const limiter = opts.limiter!;
    const budgets = opts.budgets!;
    expect(limiter.kind).toBe('redis');
    expect(budgets.kind).toBe('redis');
    // Two rules of one request (API key and workspace), tagged with the org: one slot in a cluster.
    const rules = (ws: string) => [
      { key: '{org_1}:ak:key_1:req:minute', limit: 2, windowMs: 60_000, cost: 1 },
      { key: `{org_1}:ws:${ws}:req:minute`, limit: 5, windowMs: 60_000, cost: 1 },
    ];
    let first = await limiter.consume(rules('ws_1'));
    for (let i = 0; i < 50 && first.degraded; i++) {
      await sleep(100);
      first = await limiter.consume(rules('ws_1'));
    }
    return { limiter, budgets, rules, first };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    tlsPort = await freePort();
    servers.push(
      spawn(REDIS_SERVER, [
        '--port', '0', '--tls-port', String(tlsPort), '--bind', '127.0.0.1',
        '--tls-cert-file', join(dir, 'cert.pem'), '--tls-key-file', join(dir, 'key.pem'), '--tls-ca-cert-file', join(dir, 'cert.pem'), '--tls-auth-clients', 'no',
        '--save', '', '--appendonly', 'no',
        // `default` needs a password; `app` is an ACL user with its own; `iam-gw` stands in for an
        // IAM-enabled ElastiCache user (ElastiCache checks the token; here any token is accepted).
        '--requirepass', 'default-secret',
        '--user', 'app', 'on', '>app-token-0123456789', '~*', '+@all',
        '--user', 'iam-gw', 'on', 'nopass', '~*', '+@all',
      ], { stdio: 'ignore' }),
    );
  });
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    await Promise.all(limits.flatMap((l) => [l.limiter?.close(), l.budgets?.close()]));
    for (const s of servers) s.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('TLS with the server CA and an ACL user AUTH token; refuses a wrong token and an untrusted certificate', async () => {
    const url = `rediss://127.0.0.1:${tlsPort}`;
    const cache = track(redisCache({ url, tlsCa: ca, username: 'app', authToken: 'app-token-0123456789', keyPrefix: 'tls:' }));
    expect(await until(() => cache.ping())).toBe(true);
    await cache.set('k', 'over tls', 60);
    expect(await cache.get('k')).toBe('over tls');
    expect(await cache.getWithTtl!('k')).toMatchObject({ value: 'over tls' });

    const wrong = track(redisCache({ url, tlsCa: ca, username: 'app', authToken: 'wrong-token' }));
    const untrusted = track(redisCache({ url, username: 'app', authToken: 'app-token-0123456789' }));
    const plaintext = track(redisCache({ url: `redis://127.0.0.1:${tlsPort}`, username: 'app', authToken: 'app-token-0123456789' }));
    await sleep(500);
    expect(await wrong.ping()).toBe(false);
    expect(await untrusted.ping()).toBe(false);
    expect(await plaintext.ping()).toBe(false);
  }, 30_000);

  it('IAM: authenticates as the IAM user with a freshly signed token over TLS, and not without TLS', async () => {
    const url = `rediss://127.0.0.1:${tlsPort}`;
    const iam = { userId: 'iam-gw', cacheName: 'tollgate-cache', region: 'eu-west-1', credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }) };
    const cache = track(redisCache({ url, tlsCa: ca, iam, keyPrefix: 'iam:' }));
    await cache.set('k', 'via iam', 60); // waits for the token, then connects
    expect(await cache.get('k')).toBe('via iam');
    // The server saw the IAM user, not `default`.
    const admin = new Redis(url, { tls: { ca }, password: 'default-secret', lazyConnect: true });
    await admin.connect();
    const clients = String(await admin.client('LIST'));
    await admin.quit();
    expect(clients).toMatch(/user=iam-gw/);
    expect(() => redisCache({ url: `redis://127.0.0.1:${tlsPort}`, iam })).toThrow(/needs TLS/);
  }, 30_000);

  it('cluster mode: a one-shard cluster through its configuration endpoint', async () => {
    const { port, cli } = await cluster();
    const cache = track(redisCache({ url: `redis://127.0.0.1:${port}`, cluster: true, authToken: 'cluster-token', keyPrefix: 'cl:' }));
    expect(await until(() => cache.ping())).toBe(true);
    for (let i = 0; i < 20; i++) await cache.set(`key-${i}`, `v${i}`, 60); // keys in many slots
    expect(await cache.get('key-7')).toBe('v7');
    const withTtl = await cache.getWithTtl!('key-3');
    expect(withTtl?.value).toBe('v3');
    expect(withTtl?.ttlMs).toBeGreaterThan(0);
    await cache.delete('key-7');
    expect(await cache.get('key-7')).toBeUndefined();
    expect(cli('GET', 'cl:key-3').trim()).toBe('v3'); // the prefix applies in cluster mode too
  }, 30_000);

  it('rate limits and budgets connect as the cache does: IAM over TLS with a private CA', async () => {
    const saved = { ...process.env };
    // The SDK's provider chain signs the IAM token: here from the environment, in AWS from the task role.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
    try {
      const caFile = join(dir, 'cert.pem');
      const { limiter, budgets, rules, first } = await sharedLimits({
        TOLLGATE_REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
        TOLLGATE_REDIS_TLS_CA_FILE: caFile,
        TOLLGATE_REDIS_IAM_USER: 'iam-gw',
        TOLLGATE_REDIS_IAM_CACHE_NAME: 'tollgate-cache',
        AWS_REGION: 'eu-west-1',
      });
      expect(first).toMatchObject({ allowed: true });
      expect(first.degraded).toBeUndefined();
      expect((await limiter.consume(rules('ws_1'))).allowed).toBe(true);
      const third = await limiter.consume(rules('ws_1'));
      expect(third.allowed).toBe(false);
      expect(third.degraded).toBeUndefined();
      expect(await budgets.add('{org_1}:vk:openai:2026-11', 1.25, 120)).toBeCloseTo(1.25);
      expect(await budgets.add('{org_1}:vk:openai:2026-11', 0.5, 120)).toBeCloseTo(1.75);
      const admin = new Redis(`rediss://127.0.0.1:${tlsPort}`, { tls: { ca }, password: 'default-secret', lazyConnect: true });
      await admin.connect();
      const clients = String(await admin.client('LIST'));
      const ttl = await admin.ttl('tollgate:budget:{org_1}:vk:openai:2026-11');
      await admin.quit();
      // Both the limiter and the budget store authenticated as the IAM user, not as `default`.
      expect(clients.match(/user=iam-gw/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
      expect(ttl).toBeGreaterThan(100);
    } finally {
      process.env = saved;
    }
  }, 30_000);

  it('rate limits and budgets in cluster mode: multi-rule checks stay atomic in one slot', async () => {
    const { port, cli } = await cluster();
    const { limiter, budgets, rules, first } = await sharedLimits({
      TOLLGATE_REDIS_URL: `redis://127.0.0.1:${port}`,
      TOLLGATE_REDIS_AUTH_TOKEN: 'cluster-token',
      TOLLGATE_REDIS_CLUSTER: 'true',
    });
    expect(first.degraded).toBeUndefined();
    expect(first.allowed).toBe(true);
    // A call counted against another workspace still uses the API key's rule (limit 2): the third is denied.
    expect((await limiter.consume(rules('ws_2'))).allowed).toBe(true);
    const denied = await limiter.consume(rules('ws_1'));
    expect(denied).toMatchObject({ allowed: false });
    expect(denied.degraded).toBeUndefined();
    expect(Number(cli('EXISTS', 'tollgate:rl:{org_1}:ws:ws_1:req:minute').trim())).toBe(1);
    expect(await budgets.add('{org_1}:ws:ws_1:2026-11', 2, 120)).toBe(2);
    expect(Number(cli('TTL', 'tollgate:budget:{org_1}:ws:ws_1:2026-11').trim())).toBeGreaterThan(100);
    expect(await budgets.once('{org_1}:alert:80', 120)).toBe(true);
    expect(await budgets.once('{org_1}:alert:80', 120)).toBe(false);
  }, 30_000);
});
