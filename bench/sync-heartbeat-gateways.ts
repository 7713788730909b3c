/**
 * The simulated gateways of bench/sync-heartbeat-load.ts, in their own process. Each speaks the
 * gateway's sync protocol (docs/sync.md) with the real headers and heartbeat report: a first full
 * pull, then a long-poll `GET /v1/sync/wait` kept open, the delta it answers a change with (or a
 * delta pull when it answers only the new version), and a
 * heartbeat pull every BENCH_HEARTBEAT_MS, all started together and de-phased as SyncClient does. Payloads are read and their version
 * taken, but no gateway state is built: on this shared 2-core machine that CPU would compete with
 * the control plane being measured, which a real fleet (on its own hosts) does not.
 * Prints `ready` once all hold their push channel, and the counters on SIGTERM.
 */
import { Agent, request } from 'undici';
import {
  GATEWAY_VERSION_HEADER,
  HEARTBEAT_HEADER,
  SYNC_FEATURES,
  SYNC_FEATURES_HEADER,
  SYNC_PATH,
  SYNC_PROTOCOL_HEADER,
  SYNC_PROTOCOL_VERSION,
  SYNC_WAIT_PATH,
} from '../runtime/core/sync-contract.js';
import { TOLLGATE_VERSION } from '../runtime/core/version.js';

const count = Number(process.env.BENCH_GATEWAYS ?? 50);
const intervalMs = Number(process.env.BENCH_HEARTBEAT_MS ?? 30_000);
const base = process.env.BENCH_CP_URL!;
const token = process.env.BENCH_TOKEN!;
const agent = new Agent({ keepAliveTimeout: 60_000, headersTimeout: 40_000, bodyTimeout: 40_000, connections: 4 * count });
const totals = { full: 0, delta: 0, notModified: 0, failures: 0, pushWakeups: 0, pushDeltas: 0 };
let closed = false;
const started = Date.now();

class Gateway {
  version = 0;
  push = false;
  constructor(readonly id: string) {}
  headers(): Record<string, string> {
    return {
      authorization: `Bearer ${token}`,
      [SYNC_PROTOCOL_HEADER]: String(SYNC_PROTOCOL_VERSION),
      [GATEWAY_VERSION_HEADER]: TOLLGATE_VERSION,
      // BENCH_WAIT_DELTA=0: a gateway from before `wait-delta` (each wake-up is a pull).
      [SYNC_FEATURES_HEADER]: SYNC_FEATURES.filter((f) => process.env.BENCH_WAIT_DELTA !== '0' || f !== 'wait-delta').join(','),
      [HEARTBEAT_HEADER]: JSON.stringify({ instance_id: this.id, gateway_version: TOLLGATE_VERSION, synced_version: this.version, uptime_seconds: Math.round((Date.now() - started) / 1000), cache: 'ok', sync_lag_seconds: 0, push: this.push }),
    };
  }
  async pull(): Promise<void> {
    try {
      const res = await request(`${base}${SYNC_PATH}?since=${this.version}`, { dispatcher: agent, headers: this.headers() });
      if (res.statusCode === 304) {
        await res.body.dump();
        totals.notModified++;
      } else if (res.statusCode === 200) {
        const body = (await res.body.json()) as { kind?: string; version: number };
        this.version = body.version;
        if (body.kind === 'delta') totals.delta++;
        else totals.full++;
      } else {
        await res.body.dump();
        totals.failures++;
      }
    } catch {
      totals.failures++;
    }
  }
  async pushLoop(): Promise<void> {
    while (!closed) {
      try {
        const res = await request(`${base}${SYNC_WAIT_PATH}?since=${this.version}&timeout=25`, { dispatcher: agent, headers: this.headers() });
        this.push = true;
        if (res.statusCode === 200) {
          const body = (await res.body.json()) as { version: number; kind?: string; base_version?: number };
          if (body.kind === 'delta') {
            // The change itself on the wait channel (feature wait-delta), as SyncClient applies it.
            totals.pushWakeups++;
            totals.pushDeltas++;
            if (body.base_version === this.version) this.version = body.version;
            else await this.pull();
            await new Promise((r) => setTimeout(r, Math.random() * 200)); // as SyncClient spreads its next waits
            continue;
          }
          const { version } = body;
          if (version !== this.version) {
            totals.pushWakeups++;
            await new Promise((r) => setTimeout(r, Math.random() * 200)); // as SyncClient spreads its wake-up pulls
            await this.pull();
          }
        } else await res.body.dump();
      } catch {
        if (!closed) totals.failures++;
        this.push = false;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}

const gateways = Array.from({ length: count }, (_, i) => new Gateway(`sim-${i}`));
await Promise.all(gateways.map((g) => g.pull()));
for (const g of gateways) void g.pushLoop();
// As SyncClient: each gateway's first beat at a random point of the first interval, then every interval.
const timers: NodeJS.Timeout[] = gateways.map((g) =>
  setTimeout(() => {
    void g.pull();
    timers.push(setInterval(() => void g.pull(), intervalMs));
  }, Math.random() * intervalMs),
);
while (!gateways.every((g) => g.push)) await new Promise((r) => setTimeout(r, 50));
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  closed = true;
  for (const t of timers) clearTimeout(t);
  process.stdout.write(`${JSON.stringify(totals)}\n`);
  process.exit(0);
});
