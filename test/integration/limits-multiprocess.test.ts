import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_BODY, gatewayHeaders, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

const REDIS = process.env.TOLLGATE_TEST_REDIS_URL;
if (!REDIS && process.env.TOLLGATE_REQUIRE_REAL_SERVERS) throw new Error('TOLLGATE_TEST_REDIS_URL is not set');
const LIMIT = 200;

async function startWorker(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['bin/run-ts.mjs', 'test/integration/limits-gateway-process.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gateway worker did not start')), 30_000);
    child.once('exit', (code) => reject(new Error(`gateway worker exited with ${code}`)));
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { url?: string };
        if (parsed.url) {
          clearTimeout(timer);
          resolve(parsed.url);
        }
      } catch {
        // other output
      }
    });
  });
  return { url, child };
}

describe.skipIf(!REDIS)('two gateway processes sharing a real Redis', () => {
  let h: GatewayHarness;
  const workers: { url: string; child: ChildProcess }[] = [];

  beforeAll(async () => {
    h = await startGatewayHarness();
    const env = {
      TOLLGATE_LIMITS_WORKER: JSON.stringify({
        keyringPath: join(dirname(h.logDir), 'keyring.json'),
        syncUrl: h.sync.url,
        token: h.sync.token,
        redis: REDIS,
        prefix: `tg-limits-${randomUUID()}:`,
        // Per day, so refill during the run is negligible (200/day ≈ one every 7 minutes).
        apiKeys: { key_0: { rate_limits: [{ type: 'requests', unit: 'rpd', value: LIMIT }] } },
      }),
    };
    workers.push(...(await Promise.all([startWorker(env), startWorker(env)])));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.child.once('exit', () => resolve());
            w.child.kill('SIGTERM');
          }),
      ),
    );
    await h?.close();
  });

  it(`admits no more than 1% over a limit of ${LIMIT} under concurrent load`, async () => {
    const total = 3 * LIMIT;
    const concurrency = 50;
    const statuses: { worker: number; status: number }[] = [];
    let next = 0;
    const body = JSON.stringify(CHAT_BODY);
    const headers = gatewayHeaders({ 'x-portkey-virtual-key': 'openai-vk' });
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          const worker = i % 2;
          const res = await fetch(`${workers[worker].url}/v1/chat/completions`, { method: 'POST', headers, body });
          await res.arrayBuffer();
          statuses.push({ worker, status: res.status });
        }
      }),
    );
    const admitted = statuses.filter((s) => s.status === 200);
    const limited = statuses.filter((s) => s.status === 429);
    expect(admitted.length + limited.length).toBe(total);
    expect(admitted.length).toBeLessThanOrEqual(Math.floor(LIMIT * 1.01));
    expect(admitted.length).toBeGreaterThanOrEqual(LIMIT);
    // Both processes admitted and refused some: the limit really is shared, not per process.
    for (const w of [0, 1]) {
      expect(admitted.some((s) => s.worker === w)).toBe(true);
      expect(limited.some((s) => s.worker === w)).toBe(true);
    }
    process.stderr.write(`[limits] ${admitted.length} admitted of ${total} (limit ${LIMIT}) across 2 processes\n`);
  }, 120_000);
});
