/**
 * The gateway container's entry point: configuration comes from the environment (ECS task
 * definition, Secrets Manager injection), and SIGTERM drains in-flight requests before exiting.
 */
import cluster from 'node:cluster';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kmsKeyring, previousKmsKeyArns } from '../adapters/kms-keyring.js';
import { localKeyring } from '../adapters/local-keyring.js';
import { memoryCache } from '../adapters/memory-cache.js';
import { redisCacheFromEnv } from '../adapters/redis-cache-env.js';
import type { Keyring } from '../core/keyring.js';
import { jsonLogger } from '../core/logger.js';
import type { KeyValueCache, LogStore } from '../core/ports.js';
import { startGateway, type GatewayOptions } from './server.js';
import { assertWorkersAllowed, parseWorkers, startPrimary, workerContext } from './cluster/workers.js';
import { limitsOptionsFromEnv } from './limits/env.js';
import { startSyncAgeMetric } from './sync/sync-age-metric.js';
import { gatewayLogStoreFromEnv, telemetryOptionsFromEnv } from './telemetry/env.js';
import { createRequestTracer, tracingOptionsFromEnv } from './tracing/tracer.js';

class ConfigError extends Error {}

function required(env: NodeJS.ProcessEnv, name: string, hint: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} is not set: ${hint}`);
  return value;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

async function keyringFromEnv(env: NodeJS.ProcessEnv): Promise<Keyring> {
  if (env.TOLLGATE_KMS_KEY_ARN) return kmsKeyring(env.TOLLGATE_KMS_KEY_ARN, previousKmsKeyArns(env));
  if (env.TOLLGATE_KEYRING_FILE) return localKeyring(resolve(env.TOLLGATE_KEYRING_FILE));
  throw new ConfigError('no keyring: set TOLLGATE_KMS_KEY_ARN (the KMS key that encrypts virtual keys) or TOLLGATE_KEYRING_FILE (the local keyring.json the control plane uses)');
}

function cacheFromEnv(env: NodeJS.ProcessEnv): KeyValueCache {
  const kind = env.TOLLGATE_CACHE?.trim() || 'memory';
  if (kind === 'memory') return memoryCache();
  if (kind === 'redis') {
    const url = required(env, 'TOLLGATE_REDIS_URL', 'TOLLGATE_CACHE=redis needs redis://host:6379 (or rediss:// for TLS)');
    return redisCacheFromEnv(url, env);
  }
  throw new ConfigError(`TOLLGATE_CACHE must be "memory" or "redis", got "${kind}"`);
}

async function tracerFromEnv(env: NodeJS.ProcessEnv) {
  let options;
  try {
    options = tracingOptionsFromEnv(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return options ? createRequestTracer(options) : undefined;
}

export async function gatewayOptionsFromEnv(env: NodeJS.ProcessEnv): Promise<GatewayOptions & { cache: KeyValueCache; logStore?: LogStore }> {
  const controlPlaneUrl = required(env, 'TOLLGATE_CONTROL_PLANE_URL', 'the control plane API base URL, e.g. https://cp.example.com').replace(/\/+$/, '');
  const dataPlaneToken = required(env, 'TOLLGATE_DATA_PLANE_TOKEN', 'the data-plane credential (credentials.json has it as dataPlaneToken in dev)');
  const keyring = await keyringFromEnv(env);
  return {
    host: env.HOST?.trim() || '0.0.0.0',
    port: integer(env, 'PORT', 8787),
    controlPlaneUrl,
    dataPlaneToken,
    keyring,
    cache: cacheFromEnv(env),
    logStore: await gatewayLogStoreFromEnv(env),
    telemetry: telemetryOptionsFromEnv(env),
    tracing: await tracerFromEnv(env),
    // With TOLLGATE_CACHE=redis, rate limits and budgets are shared by every task through the same Redis.
    limits: limitsOptionsFromEnv(env),
    syncIntervalMs: integer(env, 'TOLLGATE_SYNC_INTERVAL', 30) * 1000,
    // SIGTERM lets in-flight requests (long streams) finish this long; the ECS stop timeout leaves room after it.
    drainTimeoutMs: integer(env, 'TOLLGATE_DRAIN_TIMEOUT', 30) * 1000,
    customHostAllowlist: (env.TOLLGATE_CUSTOM_HOST_ALLOWLIST ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    devMode: env.TOLLGATE_DEV_MODE === '1' || env.TOLLGATE_DEV_MODE === 'true',
  };
}

/** TOLLGATE_GATEWAY_WORKERS > 1: this process only supervises; the workers run main() again as gateways. */
async function supervise(workers: number, logger: ReturnType<typeof jsonLogger>): Promise<void> {
  const primary = await startPrimary({ workers, logger }).catch((err: Error & { exitCode?: number }) => {
    process.stderr.write(`tollgate gateway: ${err.message}\n`);
    process.exit(err.exitCode ?? 1);
  });
  logger.info('gateway listening', { url: primary.url, workers });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('draining every worker before exit', { signal });
    void primary.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const logger = jsonLogger('gateway');
  let options;
  let workers = 1;
  try {
    workers = parseWorkers(env.TOLLGATE_GATEWAY_WORKERS);
    assertWorkersAllowed(workers, env.TOLLGATE_CACHE);
  } catch (err) {
    process.stderr.write(`tollgate gateway: TOLLGATE_GATEWAY_WORKERS: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (workers > 1 && cluster.isPrimary) return supervise(workers, logger);
  const worker = workerContext();
  try {
    options = await gatewayOptionsFromEnv(env);
    if (worker && options.telemetry) options.telemetry.spoolDir = worker.spoolDir(options.telemetry.spoolDir);
  } catch (err) {
    // Every settings error (ours and the telemetry reader's) is the operator's to fix: say what, exit 2.
    if (!(err instanceof Error)) throw err;
    process.stderr.write(`tollgate gateway: ${err.message}\n`);
    process.exit(2);
  }
  const gateway = await startGateway({ ...options, logger, metrics: worker?.metrics });
  worker?.serveMetrics(gateway.metricsText);
  const dataPlaneName = env.TOLLGATE_DATA_PLANE_NAME?.trim();
  const stopSyncAgeMetric = dataPlaneName ? startSyncAgeMetric(gateway.status, dataPlaneName) : () => {};
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('draining before exit', { signal });
    stopSyncAgeMetric();
    await gateway.close();
    await Promise.allSettled([options.cache.close(), options.logStore?.close()]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  worker?.onOrphaned(() => void stop('primary exited'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`tollgate gateway failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
