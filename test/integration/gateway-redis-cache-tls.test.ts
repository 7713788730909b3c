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

/** TLS, ACL AUTH, the IAM path and cluster mode against real redis-server processes. */
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
  let dir: string;
  let ca: string;
  let tlsPort: number;
  const track = (c: TtlAwareCache) => (caches.push(c), c);

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
    const port = await freePort();
    const cdir = join(dir, 'cluster');
    execFileSync('mkdir', ['-p', cdir]);
    servers.push(
      spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', join(cdir, 'nodes.conf'), '--dir', cdir, '--save', '', '--appendonly', 'no', '--requirepass', 'cluster-token'], { stdio: 'ignore' }),
    );
    const cli = (...args: string[]) => execFileSync(REDIS_CLI, ['-p', String(port), '-a', 'cluster-token', '--no-auth-warning', ...args], { encoding: 'utf8' });
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
});
