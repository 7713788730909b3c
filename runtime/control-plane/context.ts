import type { SqlDatabase } from '../core/db.js';
import type { Keyring } from '../core/keyring.js';
import { jsonLogger, type Logger } from '../core/logger.js';
import type { AnalyticsSource } from '../core/analytics.js';
import type { MetricsStore } from '../core/metrics.js';
import type { LogStore } from '../core/ports.js';
import { runMigrations } from './db/migrations.js';
import { applyLambdaSecrets, loadLambdaSecrets, type SecretsReader } from './lambda-secrets.js';
import { observabilityFromEnv } from './logs/env.js';

/** What every control-plane handler needs; built once per process (one Lambda instance, one local server). */
export interface ControlPlaneContext {
  db: SqlDatabase;
  keyring: Keyring;
  devMode: boolean;
  logger: Logger;
  /** Control-plane log mode: where gateways' encrypted logs are kept (file, S3). Default: the `log_bodies` table. */
  logStore?: LogStore;
  /** An extra metrics sink (e.g. Timestream) written after Postgres. */
  metricsStore?: MetricsStore;
  /** Where analytics graphs and groups are read when not Postgres (Timestream); feedback, logs and exports always read Postgres. */
  analytics?: AnalyticsSource;
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
 * The Postgres the Lambda environment names: `DATABASE_URL`; or `TOLLGATE_DB_IAM_USER` (IAM auth
 * tokens, with `TOLLGATE_DB_HOST`, `TOLLGATE_DB_NAME`, optional `TOLLGATE_DB_PORT`, `AWS_REGION`); or
 * `TOLLGATE_DB_SECRET_ARN` (RDS secret JSON) with `TOLLGATE_DB_HOST` overriding the secret's host
 * (the RDS Proxy endpoint).
 */
export async function databaseFromEnv(env = process.env): Promise<SqlDatabase> {
  const { postgresDb, postgresDbFromSecret, postgresDbWithIam } = await import('../adapters/postgres-db.js');
  const poolOptions = { maxConnections: Number(env.TOLLGATE_DB_POOL_MAX ?? 2) };
  if (env.DATABASE_URL) return postgresDb(env.DATABASE_URL, poolOptions);
  if (env.TOLLGATE_DB_IAM_USER) {
    const { TOLLGATE_DB_HOST: host, AWS_REGION: region } = env;
    if (!host || !region) throw new Error('TOLLGATE_DB_IAM_USER needs TOLLGATE_DB_HOST and AWS_REGION');
    const target = { host, region, user: env.TOLLGATE_DB_IAM_USER, database: env.TOLLGATE_DB_NAME ?? 'postgres', port: env.TOLLGATE_DB_PORT ? Number(env.TOLLGATE_DB_PORT) : undefined };
    return postgresDbWithIam(target, poolOptions);
  }
  if (env.TOLLGATE_DB_SECRET_ARN) return postgresDbFromSecret(env.TOLLGATE_DB_SECRET_ARN, { ...poolOptions, host: env.TOLLGATE_DB_HOST || undefined });
  throw new Error('control plane needs DATABASE_URL, TOLLGATE_DB_IAM_USER or TOLLGATE_DB_SECRET_ARN');
}

/**
 * Lambda: the database from env (above), `TOLLGATE_KMS_KEY_ARN` for the keyring, the session key and
 * the platform admin key by ARN from Secrets Manager (lambda-secrets.ts), and the observability stores
 * (logs/env.ts: `TOLLGATE_CP_LOG_BUCKET`, `TOLLGATE_METRICS_STORE=timestream`). Migrations run at cold
 * start under an advisory lock unless `TOLLGATE_SKIP_MIGRATIONS=1` (the deploy-time `migrate` handler
 * runs them instead). Everything here runs once per cold start (`getControlPlaneContext` caches it).
 */
export async function contextFromEnv(env = process.env, deps: { secretsClient?: SecretsReader } = {}): Promise<ControlPlaneContext> {
  if (!env.TOLLGATE_KMS_KEY_ARN) throw new Error('control plane needs TOLLGATE_KMS_KEY_ARN');
  const { kmsKeyring, previousKmsKeyArns } = await import('../adapters/kms-keyring.js');
  // Secrets and stores first: a bad ARN or setting fails the cold start before a DB connection is opened.
  const [secrets, observability] = await Promise.all([loadLambdaSecrets(env, deps.secretsClient), observabilityFromEnv(env)]);
  applyLambdaSecrets(secrets);
  const db = await databaseFromEnv(env);
  if (env.TOLLGATE_SKIP_MIGRATIONS !== '1') await runMigrations(db);
  return { db, keyring: kmsKeyring(env.TOLLGATE_KMS_KEY_ARN, previousKmsKeyArns(env)), devMode: false, logger: jsonLogger('control-plane'), ...observability };
}
