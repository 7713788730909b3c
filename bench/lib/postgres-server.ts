import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL cluster for the observability benches (as test/global-setup.ts starts one),
 * or the server at DATABASE_URL. `cpuSeconds()` sums the CPU time of the cluster's processes, so a
 * bench can report what the database spent besides wall-clock time on a shared machine.
 */
export interface BenchPostgres {
  url: string;
  cpuSeconds(): number;
  stop(): void;
}

function bin(): string {
  const root = '/usr/lib/postgresql';
  const dir = existsSync(root)
    ? readdirSync(root).sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'initdb')))
    : undefined;
  if (!dir) throw new Error('PostgreSQL is not installed; run: bash scripts/ensure-test-deps.sh');
  return dir;
}

function asDbUser(cmd: string, args: string[]): void {
  const [c, a] = userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  execFileSync(c, a, { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** utime + stime of a process and its reaped children, in seconds. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

function clusterCpu(postmasterPid: number): number {
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(name) === postmasterPid || Number(f[1]) === postmasterPid) total += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // the process ended between readdir and read
    }
  }
  return total;
}

/**
 * `keepDir`: a directory that holds the cluster across runs (created on first use, started again
 * later, never removed), so a bench can skip regenerating its data. `fresh` says whether it was new.
 */
export async function benchPostgres(opts: { keepDir?: string } = {}): Promise<BenchPostgres & { fresh: boolean }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, cpuSeconds: () => Number.NaN, stop: () => undefined, fresh: true };
  const keep = opts.keepDir;
  const fresh = !keep || !existsSync(join(keep, 'data', 'PG_VERSION'));
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'tollgate-bench-pg-'));
  if (keep) mkdirSync(keep, { recursive: true });
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const port = await freePort();
  if (fresh) asDbUser(join(bin(), 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=256MB -c max_wal_size=4GB -c work_mem=32MB`;
  asDbUser(join(bin(), 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-o', settings, 'start']);
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    fresh,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    cpuSeconds: () => clusterCpu(postmaster),
    stop: () => {
      try {
        asDbUser(join(bin(), 'pg_ctl'), ['-D', data, '-m', keep ? 'fast' : 'immediate', '-w', 'stop']);
      } finally {
        if (!keep) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
