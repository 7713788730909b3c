import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadSessionSecret, readCredentials, writeCredentials } from './credentials-file.js';
import { configureSessions } from './control-plane/auth/session.js';
import { fileLogStore } from './adapters/file-log-store.js';
import { fileSnapshotStore } from './adapters/file-snapshot-store.js';
import { kmsKeyring } from './adapters/kms-keyring.js';
import { localKeyring } from './adapters/local-keyring.js';
import { memoryCache } from './adapters/memory-cache.js';
import { redisCacheFromEnv } from './adapters/redis-cache-env.js';
import type { Keyring } from './core/keyring.js';
import { jsonLogger } from './core/logger.js';
import type { KeyValueCache } from './core/ports.js';
import { startControlPlane } from './control-plane/server.js';
import { limitsOptionsFromEnv } from './gateway/limits/env.js';
import { telemetryOptionsFromEnv } from './gateway/telemetry/env.js';
import { startGateway } from './gateway/server.js';
import { assertWorkersAllowed, parseWorkers, startPrimary, workerContext } from './gateway/cluster/workers.js';
import cluster from 'node:cluster';

/** Picks the keyring the way AWS does it (KMS by ARN) and falls back to a local key file for dev. */
async function chooseKeyring(keyringFile: string | undefined): Promise<Keyring> {
  const kmsKeyArn = process.env.TOLLGATE_KMS_KEY_ARN;
  if (kmsKeyArn) return kmsKeyring(kmsKeyArn);
  if (keyringFile) return localKeyring(resolve(keyringFile));
  throw new Error('no keyring: set TOLLGATE_KMS_KEY_ARN (AWS) or pass --keyring-file <file> (the same file the control plane uses)');
}

export async function runControlPlane(opts: { host: string; port: number; dataDir: string }) {
  const dataDir = resolve(opts.dataDir);
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const keyring = await chooseKeyring(process.env.TOLLGATE_KMS_KEY_ARN ? undefined : join(dataDir, 'keyring.json'));
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const credentialsFile = join(dataDir, 'credentials.json');
  const previous = await readCredentials(credentialsFile);
  configureSessions(await loadSessionSecret(dataDir));
  const running = await startControlPlane({
    host: opts.host,
    port: opts.port,
    dataDir: databaseUrl ? undefined : dataDir,
    databaseUrl,
    keyring,
    adminApiKey: process.env.TOLLGATE_ADMIN_API_KEY || previous.adminApiKey,
    dataPlaneToken: process.env.TOLLGATE_DATA_PLANE_TOKEN || previous.dataPlaneToken,
  });
  await writeCredentials(credentialsFile, { adminApiKey: running.adminApiKey, dataPlaneToken: running.dataPlaneToken, controlPlaneUrl: running.url });
  return { ...running, credentialsFile };
}

function chooseCache(kind: string, redisUrl: string | undefined): KeyValueCache {
  if (kind === 'memory') return memoryCache();
  if (kind === 'redis') {
    if (!redisUrl) throw new Error('--cache redis needs --redis-url redis://host:6379 (or rediss:// for TLS)');
    return redisCacheFromEnv(redisUrl);
  }
  throw new Error(`unknown --cache "${kind}": use memory or redis`);
}

export async function runGateway(opts: {
  host: string;
  port: number;
  controlPlaneUrl: string;
  cache: string;
  redisUrl?: string;
  syncInterval: number;
  keyringFile?: string;
  logDir?: string;
  snapshotFile?: string;
  spoolDir?: string;
  devMode?: boolean;
  /** n, or auto (one per core); default TOLLGATE_GATEWAY_WORKERS, else 1. */
  workers?: string;
}) {
  const workers = parseWorkers(opts.workers ?? process.env.TOLLGATE_GATEWAY_WORKERS);
  assertWorkersAllowed(workers, opts.cache);
  if (workers > 1 && cluster.isPrimary) {
    // This process only supervises: cluster runs this same command again in each worker.
    const primary = await startPrimary({ workers, logger: jsonLogger('gateway') });
    return { url: primary.url, workers: primary.pids(), close: primary.close };
  }
  const worker = workerContext();
  const dataPlaneToken = process.env.TOLLGATE_DATA_PLANE_TOKEN;
  if (!dataPlaneToken) throw new Error('set TOLLGATE_DATA_PLANE_TOKEN to the data-plane credential (credentials.json has it as dataPlaneToken in dev)');
  const cache = chooseCache(opts.cache, opts.redisUrl);
  const logStore = opts.logDir ? fileLogStore(resolve(opts.logDir)) : undefined;
  const keyring = await chooseKeyring(opts.keyringFile);
  // Without Redis, a snapshot file keeps the last good snapshot on disk (encrypted, 0600) for restarts.
  const snapshotFile = opts.snapshotFile || process.env.TOLLGATE_SNAPSHOT_FILE || undefined;
  const configuredSpool = opts.spoolDir || process.env.TOLLGATE_SPOOL_DIR || undefined;
  const spoolDir = worker ? worker.spoolDir(configuredSpool) : configuredSpool;
  const running = await startGateway({
    host: opts.host,
    port: opts.port,
    controlPlaneUrl: opts.controlPlaneUrl.replace(/\/+$/, ''),
    dataPlaneToken,
    keyring,
    cache,
    snapshotStore: snapshotFile ? fileSnapshotStore({ path: resolve(snapshotFile), keyring }) : undefined,
    logStore,
    // The container's telemetry settings (TOLLGATE_TELEMETRY=off, TOLLGATE_LOG_MODE, ...) apply here too.
    telemetry: { ...telemetryOptionsFromEnv(process.env), spoolDir: spoolDir ? resolve(spoolDir) : undefined },
    // Limits and budgets share the gateway cache's Redis, so every gateway task counts against one limit.
    limits: limitsOptionsFromEnv({ ...process.env, TOLLGATE_CACHE: opts.cache, TOLLGATE_REDIS_URL: opts.redisUrl }),
    syncIntervalMs: opts.syncInterval * 1000,
    customHostAllowlist: (process.env.TOLLGATE_CUSTOM_HOST_ALLOWLIST ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    devMode: opts.devMode || process.env.TOLLGATE_DEV_MODE === '1' || process.env.TOLLGATE_DEV_MODE === 'true',
    logger: jsonLogger('gateway'),
    metrics: worker?.metrics,
  });
  worker?.serveMetrics(running.metricsText);
  worker?.onOrphaned(() => void running.close().then(() => process.exit(0)));
  return {
    url: running.url,
    workers: [process.pid],
    async close() {
      await running.close();
      await Promise.all([cache.close(), logStore?.close()]);
    },
  };
}
