import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileLogStore } from './adapters/file-log-store.js';
import { localKeyring } from './adapters/local-keyring.js';
import { memoryCache } from './adapters/memory-cache.js';
import { jsonLogger, type Logger } from './core/logger.js';
import { loadSessionSecret, readCredentials, writeCredentials } from './credentials-file.js';
import { configureSessions } from './control-plane/auth/session.js';
import { ensureOwnerUser } from './control-plane/bootstrap-owner.js';
import { startControlPlane } from './control-plane/server.js';
import { startGateway } from './gateway/server.js';

export interface DevOptions {
  host?: string;
  /** @default 8787 */
  port?: number;
  /** @default 8788 */
  controlPlanePort?: number;
  /** @default './.tollgate' */
  dataDir?: string;
  /** @default 30 */
  syncIntervalSeconds?: number;
  /** Overrides the generated org admin key (TOLLGATE_ADMIN_API_KEY). */
  adminApiKey?: string;
  logger?: Logger;
}

export interface DevCredentials {
  adminApiKey: string;
  dataPlaneToken: string;
  gatewayUrl: string;
  controlPlaneUrl: string;
  ownerEmail: string;
  /** Absent when the owner was created by an earlier start whose credentials.json was lost. */
  ownerPassword?: string;
}

export interface RunningDev {
  credentials: DevCredentials;
  close(): Promise<void>;
}

/**
 * `tollgate dev`: control plane (PGlite), gateway (memory cache, file logs) and the local AES keyring,
 * all under one data directory. Keys generated on the first start are kept in credentials.json
 * (mode 0600) because the database holds only their hashes.
 */
export async function startDev(options: DevOptions = {}): Promise<RunningDev> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir ?? './.tollgate');
  const logger = options.logger ?? jsonLogger('dev');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const credentialsFile = join(dataDir, 'credentials.json');
  const previous = await readCredentials(credentialsFile);
  const keyring = await localKeyring(join(dataDir, 'keyring.json'));
  configureSessions(await loadSessionSecret(dataDir));

  const controlPlane = await startControlPlane({
    host,
    port: options.controlPlanePort ?? 8788,
    dataDir,
    keyring,
    adminApiKey: options.adminApiKey ?? previous.adminApiKey,
    dataPlaneToken: previous.dataPlaneToken,
    devMode: true,
  });

  // The gateway does not own its cache and log store: whoever creates them closes them.
  const cache = memoryCache();
  const logStore = fileLogStore(join(dataDir, 'logs'));
  let gateway;
  try {
    gateway = await startGateway({
      host,
      port: options.port ?? 8787,
      controlPlaneUrl: controlPlane.url,
      dataPlaneToken: controlPlane.dataPlaneToken,
      keyring,
      cache,
      logStore,
      syncIntervalMs: (options.syncIntervalSeconds ?? 30) * 1000,
      devMode: true,
      // Metrics and logs that cannot reach the control plane wait here, and survive a restart.
      telemetry: { spoolDir: join(dataDir, 'spool') },
      logger: jsonLogger('gateway'),
    });
  } catch (err) {
    await controlPlane.close();
    throw err;
  }

  // The control panel's owner: the password exists in clear only here and in credentials.json.
  const owner = await ensureOwnerUser(controlPlane.db, controlPlane.organisationId);
  const credentials: DevCredentials = {
    adminApiKey: controlPlane.adminApiKey,
    dataPlaneToken: controlPlane.dataPlaneToken,
    gatewayUrl: gateway.url,
    controlPlaneUrl: controlPlane.url,
    ownerEmail: owner.email,
    ownerPassword: owner.password ?? previous.ownerPassword,
  };
  await writeCredentials(credentialsFile, credentials);
  logger.info('tollgate dev is up', { gatewayUrl: gateway.url, controlPlaneUrl: controlPlane.url, dataDir });

  return {
    credentials,
    async close() {
      await gateway.close();
      await Promise.all([cache.close(), logStore.close()]);
      await controlPlane.close();
    },
  };
}
