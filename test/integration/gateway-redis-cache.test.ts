import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCache } from '../../runtime/adapters/redis-cache.js';
import type { KeyValueCache } from '../../runtime/core/ports.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const hasRedis = existsSync(REDIS_SERVER);
if (!hasRedis) console.warn(`gateway-redis-cache: skipped, ${REDIS_SERVER} is not installed (apt-get install redis-server)`);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(!hasRedis)('redis cache adapter against a real redis-server', () => {
  let redis: ChildProcess;
  let cache: KeyValueCache;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'test-auth-token'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    cache = redisCache({ url, authToken: 'test-auth-token' });
    for (let i = 0; i < 100 && !(await cache.ping()); i++) await sleep(50);
  });
  afterAll(async () => {
    await cache?.close();
    redis?.kill('SIGTERM');
  });

  it('gets, sets, deletes and pings', async () => {
    expect(await cache.ping()).toBe(true);
    expect(await cache.get('missing')).toBeUndefined();
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    await cache.delete('k');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('expires entries after their TTL', async () => {
    await cache.set('ttl', 'v', 1);
    expect(await cache.get('ttl')).toBe('v');
    await sleep(1500);
    expect(await cache.get('ttl')).toBeUndefined();
  });

  it('shares values across clients (another gateway task) and uses AUTH', async () => {
    const other = redisCache({ url, authToken: 'test-auth-token' });
    await cache.set('shared', 'snapshot');
    expect(await other.get('shared')).toBe('snapshot');
    await other.close();
    const noAuth = redisCache({ url });
    expect(await noAuth.ping()).toBe(false);
    await noAuth.close();
  });
});
