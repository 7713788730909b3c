import { resolve } from 'node:path';
import type { LogStore } from '../../core/ports.js';
import type { TelemetryOptions } from './request-log.js';

/**
 * Telemetry settings from the gateway's environment (ECS task definition), for main.ts:
 *   TOLLGATE_TELEMETRY=off                 metrics and logs off
 *   TOLLGATE_LOG_MODE=customer|control-plane|off
 *   TOLLGATE_LOG_BUCKET, TOLLGATE_LOG_PREFIX, TOLLGATE_LOG_KMS_KEY_ID   S3 log store (customer mode)
 *   TOLLGATE_LOG_DIR                       file log store (customer mode)
 *   TOLLGATE_SPOOL_DIR, TOLLGATE_SPOOL_MAX_BYTES
 *   TOLLGATE_TELEMETRY_FLUSH_MS, TOLLGATE_TELEMETRY_BATCH_SIZE
 *   TOLLGATE_GATEWAY_PUBLIC_URL            how the control plane reaches this gateway for logs
 *   TOLLGATE_TELEMETRY_SELF_TIME=1         measure telemetry's own time per record (a bench tool, self-time.ts)
 */
export function telemetryOptionsFromEnv(env: NodeJS.ProcessEnv): TelemetryOptions {
  const int = (name: string): number | undefined => {
    const raw = env[name]?.trim();
    if (!raw) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
    return n;
  };
  const mode = env.TOLLGATE_LOG_MODE?.trim();
  if (mode && mode !== 'customer' && mode !== 'control-plane' && mode !== 'off') {
    throw new Error(`TOLLGATE_LOG_MODE must be customer, control-plane or off, got "${mode}"`);
  }
  return {
    enabled: env.TOLLGATE_TELEMETRY?.trim() !== 'off',
    logMode: mode as TelemetryOptions['logMode'],
    spoolDir: env.TOLLGATE_SPOOL_DIR?.trim() ? resolve(env.TOLLGATE_SPOOL_DIR.trim()) : undefined,
    spoolMaxBytes: int('TOLLGATE_SPOOL_MAX_BYTES'),
    flushIntervalMs: int('TOLLGATE_TELEMETRY_FLUSH_MS'),
    batchSize: int('TOLLGATE_TELEMETRY_BATCH_SIZE'),
    publicUrl: env.TOLLGATE_GATEWAY_PUBLIC_URL?.trim() || undefined,
    measureSelfTime: env.TOLLGATE_TELEMETRY_SELF_TIME?.trim() === '1',
  };
}

/** The customer-mode log store: S3 when TOLLGATE_LOG_BUCKET is set, else a directory when TOLLGATE_LOG_DIR is. */
export async function gatewayLogStoreFromEnv(env: NodeJS.ProcessEnv): Promise<LogStore | undefined> {
  if (env.TOLLGATE_LOG_BUCKET?.trim()) {
    const { s3LogStore } = await import('../../adapters/s3-log-store.js');
    return s3LogStore({ bucket: env.TOLLGATE_LOG_BUCKET.trim(), prefix: env.TOLLGATE_LOG_PREFIX?.trim() || undefined, kmsKeyId: env.TOLLGATE_LOG_KMS_KEY_ID?.trim() || undefined });
  }
  if (env.TOLLGATE_LOG_DIR?.trim()) {
    const { fileLogStore } = await import('../../adapters/file-log-store.js');
    return fileLogStore(resolve(env.TOLLGATE_LOG_DIR.trim()));
  }
  return undefined;
}
