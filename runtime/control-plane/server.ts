import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { SqlDatabase } from '../core/db.js';
import type { Keyring } from '../core/keyring.js';
import { jsonLogger, type Logger } from '../core/logger.js';
import { bootstrapDefaultOrganisation } from './bootstrap.js';
import type { ControlPlaneContext } from './context.js';
import { runMigrations } from './db/migrations.js';
import { refreshStaleSnapshots } from './sync/materialised.js';
import { startLocalAdapter } from './local-adapter.js';
import type { AnalyticsSource } from '../core/analytics.js';
import type { MetricsStore } from '../core/metrics.js';
import type { LogStore } from '../core/ports.js';

export interface ControlPlaneOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** PGlite lives in `<dataDir>/db`; with neither dataDir nor databaseUrl the database is in memory. */
  dataDir?: string;
  /** A Postgres connection string; takes precedence over dataDir. */
  databaseUrl?: string;
  keyring: Keyring;
  /** The org admin key (TOLLGATE_ADMIN_API_KEY, or the one returned by an earlier start). Generated when absent. */
  adminApiKey?: string;
  /** The gateway's credential returned by an earlier start. Generated when absent. */
  dataPlaneToken?: string;
  devMode?: boolean;
  logger?: Logger;
  /** @default 1 MiB */
  maxBodyBytes?: number;
  /** Where control-plane-mode logs are kept (file, S3); default: the database. Owned by the caller. */
  logStore?: LogStore;
  /** An extra metrics sink (Timestream) next to Postgres. Owned by the caller. */
  metricsStore?: MetricsStore;
  /** Where analytics graphs and groups are read (Timestream); default Postgres. Owned by the caller. */
  analytics?: AnalyticsSource;
}

export interface RunningControlPlane {
  /** `http://127.0.0.1:<port>`; the Portkey SDK's baseURL is `${url}/v1`. */
  url: string;
  adminApiKey: string;
  dataPlaneToken: string;
  organisationId: string;
  defaultWorkspaceId: string;
  /** For tests and tools that need to look inside; the server owns it and closes it. */
  db: SqlDatabase;
  close(): Promise<void>;
}

async function openDatabase(opts: ControlPlaneOptions): Promise<SqlDatabase> {
  if (opts.databaseUrl) {
    const { postgresDb } = await import('../adapters/postgres-db.js');
    return postgresDb(opts.databaseUrl);
  }
  const { pgliteDb } = await import('../adapters/pglite-db.js');
  if (!opts.dataDir) return pgliteDb();
  const dir = join(opts.dataDir, 'db');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return pgliteDb(dir);
}

/**
 * Starts the control plane locally: database, migrations, first-start bootstrap (org, default
 * workspace, admin key, data-plane credential) and the HTTP adapter over the Lambda handlers.
 * Only hashes of the keys are stored, so the caller keeps the returned plaintexts and passes them
 * back on the next start; keys it passes that the database does not know yet are added.
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<RunningControlPlane> {
  const host = opts.host ?? '127.0.0.1';
  const logger = opts.logger ?? jsonLogger('control-plane');
  const db = await openDatabase(opts);
  try {
    await runMigrations(db);
    const creds = await bootstrapDefaultOrganisation(db, { adminApiKey: opts.adminApiKey, dataPlaneToken: opts.dataPlaneToken });
    const context: ControlPlaneContext = { db, keyring: opts.keyring, devMode: opts.devMode ?? false, logger, logStore: opts.logStore, metricsStore: opts.metricsStore, analytics: opts.analytics };
    const { server, port } = await startLocalAdapter({ host, port: opts.port, context, maxBodyBytes: opts.maxBodyBytes });
    // A new build cannot roll the stored sync snapshots forward: rebuild them now, off the request path.
    const stopRefresh = new AbortController();
    const refreshing = refreshStaleSnapshots(db, { signal: stopRefresh.signal })
      .then((r) => r.refreshed.length && logger.info('sync snapshots rebuilt for this build', { orgs: r.refreshed.length, remaining: r.remaining }))
      .catch((err: Error) => logger.warn('sync snapshots not rebuilt at start-up; each org rebuilds on its next full sync', { reason: err.message }));
    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    let closed: Promise<void> | undefined;
    return {
      url: `http://${urlHost}:${port}`,
      adminApiKey: creds.adminApiKey,
      dataPlaneToken: creds.dataPlaneToken,
      organisationId: creds.organisationId,
      defaultWorkspaceId: creds.defaultWorkspaceId,
      db,
      close() {
        closed ??= (async () => {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
          stopRefresh.abort();
          await refreshing;
          await db.close();
        })();
        return closed;
      },
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
