/**
 * The simulated gateways of bench/sync-heartbeat-load.ts, in their own process: BENCH_GATEWAYS real
 * SyncClients (the gateway's own sync code: full sync, long-poll push, heartbeat pulls with the
 * heartbeat report), all started together so their heartbeats fire at the same moment. Prints
 * `ready` once every client has synced and holds its push channel, and its counters on SIGTERM.
 */
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { memoryCache } from '../runtime/adapters/memory-cache.js';
import { silentLogger } from '../runtime/core/logger.js';
import { SyncClient } from '../runtime/gateway/sync/sync-client.js';

const count = Number(process.env.BENCH_GATEWAYS ?? 50);
const intervalMs = Number(process.env.BENCH_HEARTBEAT_MS ?? 30_000);
const keyring = await localKeyring(process.env.BENCH_KEYRING!);
const clients = Array.from(
  { length: count },
  (_, i) =>
    new SyncClient({
      controlPlaneUrl: process.env.BENCH_CP_URL!,
      dataPlaneToken: process.env.BENCH_TOKEN!,
      keyring,
      cache: memoryCache(),
      logger: silentLogger,
      instanceId: `sim-${i}`,
      prewarmSecrets: false,
    }),
);
await Promise.all(clients.map((c) => c.syncNow()));
for (const c of clients) c.start(intervalMs);
while (!clients.every((c) => c.getStatus().push)) await new Promise((r) => setTimeout(r, 50));
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  const totals = { full: 0, delta: 0, notModified: 0, failures: 0, pushWakeups: 0, refused: 0 };
  for (const c of clients) for (const [k, v] of Object.entries(c.getStatus().counters)) totals[k as keyof typeof totals] += v;
  process.stdout.write(`${JSON.stringify({ ...totals, behind: clients.filter((c) => c.getStatus().lastSyncError).length })}\n`);
  await Promise.all(clients.map((c) => c.close()));
  process.exit(0);
});
