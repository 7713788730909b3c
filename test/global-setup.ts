import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * Starts the real servers the integration tests use (a throwaway PostgreSQL cluster and a Redis)
 * once for the whole run, and hands their URLs to the tests through the environment.
 * Set TOLLGATE_REQUIRE_REAL_SERVERS=1 (CI does) to fail instead of skipping when a binary is missing.
 */
const required = process.env.TOLLGATE_REQUIRE_REAL_SERVERS === '1';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
}

function missing(what: string): undefined {
  const message = `${what} is not installed; run: bash scripts/ensure-test-deps.sh`;
  if (required) throw new Error(message);
  process.stderr.write(`[global-setup] ${message} (tests that need it are skipped)\n`);
}

/** PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user. */
function asDbUser(bin: string, args: string[]): void {
  const runAsOther = userInfo().uid === 0;
  const [cmd, argv] = runAsOther ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function startPostgres(): Promise<(() => void) | undefined> {
  if (process.env.TOLLGATE_TEST_DATABASE_URL) return undefined;
  const bin = postgresBin();
  if (!bin) return missing('PostgreSQL (Debian package postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'));
  const dataDir = join(dir, 'data');
  if (userInfo().uid === 0) {
    const pw = execFileSync('id', ['-u', 'postgres']).toString().trim();
    const gid = execFileSync('id', ['-g', 'postgres']).toString().trim();
    chownSync(dir, Number(pw), Number(gid));
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  asDbUser(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  asDbUser(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  process.env.TOLLGATE_TEST_DATABASE_URL = `postgres://postgres@127.0.0.1:${port}/postgres`;
  process.stderr.write(`[global-setup] PostgreSQL on 127.0.0.1:${port}\n`);
  return () => {
    try {
      asDbUser(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

async function startRedis(): Promise<(() => void) | undefined> {
  if (process.env.TOLLGATE_TEST_REDIS_URL) return undefined;
  const bin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);
  if (!bin) return missing('redis-server (Debian package redis-server)');
  const port = await freePort();
  const proc: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createServer();
      socket.once('error', () => resolve(true));
      socket.listen(port, '127.0.0.1', () => socket.close(() => resolve(false)));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  process.env.TOLLGATE_TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
  process.stderr.write(`[global-setup] Redis on 127.0.0.1:${port}\n`);
  return () => proc.kill('SIGTERM');
}

export default async function setup(): Promise<() => void> {
  const stops = [await startPostgres(), await startRedis()].filter((s): s is () => void => Boolean(s));
  return () => {
    for (const stop of stops.reverse()) stop();
  };
}
