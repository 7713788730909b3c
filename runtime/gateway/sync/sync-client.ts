import { Agent, request } from 'undici';
import type { Keyring } from '../../core/keyring.js';
import type { Logger } from '../../core/logger.js';
import type { KeyValueCache } from '../../core/ports.js';
import {
  GATEWAY_VERSION_HEADER,
  SYNC_PATH,
  SYNC_PROTOCOL_HEADER,
  SYNC_PROTOCOL_VERSION,
  syncSnapshotSchema,
  type SyncSnapshot,
} from '../../core/sync-contract.js';
import { TOLLGATE_VERSION } from '../../core/version.js';
import { buildGatewayState, EMPTY_STATE, type GatewayState } from './gateway-state.js';
import { describeIssues } from '../../core/config-schema.js';

/** Where the raw (still encrypted) snapshot is kept, so a restart serves before the control plane answers. */
export const SNAPSHOT_CACHE_KEY = 'tollgate:sync:snapshot';

export interface SyncStatus {
  syncedVersion: number;
  lastSyncAt: string | null;
  lastSyncError: string | null;
}

export interface SyncClientOptions {
  controlPlaneUrl: string;
  dataPlaneToken: string;
  keyring: Keyring;
  cache: KeyValueCache;
  logger: Logger;
}

/**
 * Pulls the org snapshot from the control plane and turns it into a GatewayState. A failed pull
 * (down, refused, unreadable payload) leaves the last good state in place: serving stale routing
 * beats serving nothing.
 */
export class SyncClient {
  private current: GatewayState = EMPTY_STATE;
  private decrypted = new Map<string, string>();
  private status: SyncStatus = { syncedVersion: 0, lastSyncAt: null, lastSyncError: null };
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly agent = new Agent({ keepAliveTimeout: 60_000, headersTimeout: 15_000, bodyTimeout: 60_000 });
  private readonly url: string;

  constructor(private readonly opts: SyncClientOptions) {
    this.url = opts.controlPlaneUrl.replace(/\/+$/, '') + SYNC_PATH;
  }

  /** The state LLM calls read; a plain field read, never a network call. */
  get state(): GatewayState {
    return this.current;
  }

  getStatus(): SyncStatus {
    return { ...this.status };
  }

  /** Loads the snapshot a previous run persisted. Returns whether one was usable. */
  async restoreFromCache(): Promise<boolean> {
    try {
      const raw = await this.opts.cache.get(SNAPSHOT_CACHE_KEY);
      if (!raw) return false;
      const snapshot = this.parse(raw);
      await this.apply(snapshot);
      this.opts.logger.info('restored the synced snapshot from the cache', { version: snapshot.version });
      return true;
    } catch (err) {
      this.opts.logger.warn('the cached snapshot is unusable; waiting for the control plane', { reason: (err as Error).message });
      return false;
    }
  }

  /** Queued behind any pull in flight, so a caller always sees a pull that started after its call. */
  syncNow(): Promise<void> {
    this.queue = this.queue.then(() => this.pull());
    return this.queue;
  }

  startHeartbeat(intervalMs: number): void {
    this.timer = setInterval(() => void this.syncNow(), intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.queue;
    await this.agent.close();
  }

  private async pull(): Promise<void> {
    try {
      const url = `${this.url}?since=${this.status.syncedVersion}`;
      const res = await request(url, {
        dispatcher: this.agent,
        headers: {
          authorization: `Bearer ${this.opts.dataPlaneToken}`,
          [SYNC_PROTOCOL_HEADER]: String(SYNC_PROTOCOL_VERSION),
          [GATEWAY_VERSION_HEADER]: TOLLGATE_VERSION,
          accept: 'application/json',
        },
      });
      if (res.statusCode === 304) {
        await res.body.dump();
      } else if (res.statusCode === 200) {
        const raw = await res.body.text();
        const snapshot = this.parse(raw);
        await this.apply(snapshot);
        // Persist after applying: only a payload this gateway understood is worth restoring.
        await this.opts.cache.set(SNAPSHOT_CACHE_KEY, raw).catch((err: Error) =>
          this.opts.logger.warn('could not persist the snapshot to the cache', { reason: err.message }),
        );
      } else {
        await res.body.dump();
        throw new Error(
          res.statusCode === 401 || res.statusCode === 403
            ? `the control plane refused the data-plane token (${res.statusCode}); check TOLLGATE_DATA_PLANE_TOKEN`
            : `the control plane answered ${res.statusCode}`,
        );
      }
      this.status = { ...this.status, syncedVersion: this.current.version, lastSyncAt: new Date().toISOString(), lastSyncError: null };
    } catch (err) {
      const code = (err as { code?: string }).code;
      const message = code ? `could not reach the control plane: ${(err as Error).message} (${code})` : (err as Error).message || String(err);
      if (this.status.lastSyncError !== message) {
        this.opts.logger.warn('sync failed; serving the last good snapshot', { version: this.current.version, reason: message });
      }
      this.status = { ...this.status, lastSyncError: message };
    }
  }

  private parse(raw: string): SyncSnapshot {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new Error('the snapshot is not JSON');
    }
    const protocol = (json as { protocol?: unknown } | null)?.protocol;
    if (protocol !== SYNC_PROTOCOL_VERSION) {
      throw new Error(`the snapshot uses sync protocol ${String(protocol)}; this gateway (${TOLLGATE_VERSION}) speaks ${SYNC_PROTOCOL_VERSION}`);
    }
    const result = syncSnapshotSchema.safeParse(json);
    if (!result.success) throw new Error(`the snapshot does not validate: ${describeIssues(result.error)}`);
    return result.data;
  }

  private async apply(snapshot: SyncSnapshot): Promise<void> {
    const { state, decrypted } = await buildGatewayState(snapshot, this.opts.keyring, this.opts.logger, this.decrypted);
    this.current = state;
    this.decrypted = decrypted;
    this.status = { ...this.status, syncedVersion: state.version };
  }
}
