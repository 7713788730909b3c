import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localKeyring } from '../runtime/adapters/local-keyring.js';
import { memoryCache } from '../runtime/adapters/memory-cache.js';
import { startGateway } from '../runtime/gateway/server.js';
import { startFixtureSyncServer } from '../test/support/fixture-sync-server.js';

/**
 * Tollgate for the comparison bench, in its own process: a synced state with one API key and a
 * saved config (provider openai, custom_host = the mock), so each request takes the full hot path
 * (API key hash lookup, saved config, plan, forward). Telemetry off, as Portkey's OSS gateway logs nothing.
 */
const upstream = process.env.UPSTREAM!;
const dir = await mkdtemp(join(tmpdir(), 'tollgate-compare-'));
const keyring = await localKeyring(join(dir, 'keyring.json'));
const sync = await startFixtureSyncServer(keyring, {
  apiKeys: [{ key: 'pk-bench-key-0123456789' }],
  configs: [{ slug: 'bench', config: { provider: 'openai', api_key: 'sk-bench-upstream', custom_host: `${upstream}/v1` } }],
});
const gateway = await startGateway({
  port: Number(process.env.PORT ?? 0),
  controlPlaneUrl: sync.url,
  dataPlaneToken: sync.token,
  keyring,
  cache: memoryCache(),
  devMode: true,
  syncIntervalMs: 3_600_000,
  push: false,
  telemetry: { enabled: false },
});
process.stdout.write(`${JSON.stringify({ port: Number(new URL(gateway.url).port) })}\n`);
process.on('SIGTERM', () => void gateway.close().then(() => sync.close()).then(() => process.exit(0)));
