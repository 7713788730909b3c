import type { SqlDatabase } from '../core/db.js';
import type { Keyring } from '../core/keyring.js';
import { jsonLogger, type Logger } from '../core/logger.js';
import { runMigrations } from './db/migrations.js';

/** What every control-plane handler needs; built once per process (one Lambda instance, one local server). */
export interface ControlPlaneContext {
  db: SqlDatabase;
  keyring: Keyring;
  devMode: boolean;
  logger: Logger;
}

let processContext: Promise<ControlPlaneContext> | undefined;

/** Local mode and tests inject their dependencies instead of reading the Lambda environment. */
export function setControlPlaneContext(ctx: Omit<ControlPlaneContext, 'logger'> & { logger?: Logger }): void {
  processContext = Promise.resolve({ logger: jsonLogger('control-plane'), ...ctx });
}

export function getControlPlaneContext(): Promise<ControlPlaneContext> {
  processContext ??= contextFromEnv().catch((err: unknown) => {
    // Do not cache a failed cold start: the next invocation retries (e.g. the DB was still resuming).
    processContext = undefined;
    throw err;
  });
  return processContext;
}

/**
 * Lambda: `DATABASE_URL` or `TOLLGATE_DB_SECRET_ARN` (RDS secret JSON) for Postgres,
 * `TOLLGATE_KMS_KEY_ARN` for the keyring. Migrations run at cold start under an advisory lock
 * unless `TOLLGATE_SKIP_MIGRATIONS=1` (when a deploy step runs them instead).
 */
async function contextFromEnv(env = process.env): Promise<ControlPlaneContext> {
  const { postgresDb, postgresDbFromSecret } = await import('../adapters/postgres-db.js');
  const { kmsKeyring } = await import('../adapters/kms-keyring.js');
  const poolOptions = { maxConnections: Number(env.TOLLGATE_DB_POOL_MAX ?? 2) };
  let db: SqlDatabase;
  if (env.DATABASE_URL) db = postgresDb(env.DATABASE_URL, poolOptions);
  else if (env.TOLLGATE_DB_SECRET_ARN) db = await postgresDbFromSecret(env.TOLLGATE_DB_SECRET_ARN, poolOptions);
  else throw new Error('control plane needs DATABASE_URL or TOLLGATE_DB_SECRET_ARN');
  if (!env.TOLLGATE_KMS_KEY_ARN) throw new Error('control plane needs TOLLGATE_KMS_KEY_ARN');
  if (env.TOLLGATE_SKIP_MIGRATIONS !== '1') await runMigrations(db);
  return { db, keyring: kmsKeyring(env.TOLLGATE_KMS_KEY_ARN), devMode: false, logger: jsonLogger('control-plane') };
}
