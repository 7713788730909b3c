/**
 * One gateway in its own process for limits-multiprocess.test.ts: it syncs from the test's fixture
 * control plane and limits through the shared Redis. Prints `{"url": ...}` once listening.
 */
import { localKeyring } from '../../runtime/adapters/local-keyring.js';
import { memoryCache } from '../../runtime/adapters/memory-cache.js';
import { redisRateLimiter } from '../../runtime/gateway/limits/index.js';
import { startGateway } from '../../runtime/gateway/server.js';

const cfg = JSON.parse(process.env.TOLLGATE_LIMITS_WORKER ?? '{}') as {
  keyringPath: string;
  syncUrl: string;
  token: string;
  redis: string;
  prefix: string;
  apiKeys: Record<string, { rate_limits: unknown[] }>;
};
const gw = await startGateway({
  port: 0,
  controlPlaneUrl: cfg.syncUrl,
  dataPlaneToken: cfg.token,
  keyring: await localKeyring(cfg.keyringPath),
  cache: memoryCache(),
  devMode: true,
  syncIntervalMs: 600_000,
  push: false,
  limits: {
    // The test is about sharing through Redis: on a starved CI machine a 250 ms command timeout would
    // switch a worker to its local fallback (which admits a whole limit per process). Say so if it does.
    limiter: redisRateLimiter({
      url: cfg.redis,
      keyPrefix: cfg.prefix,
      timeoutMs: 3000,
      onDegraded: (on, reason) => process.stderr.write(`[limits worker] redis ${on ? 'degraded' : 'back'}${reason ? `: ${reason}` : ''}\n`),
    }),
    apiKeys: cfg.apiKeys,
  },
});
process.stdout.write(`${JSON.stringify({ url: gw.url })}\n`);
const stop = () => void gw.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
