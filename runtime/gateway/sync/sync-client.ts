import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Agent, request } from 'undici';
import { describeIssues } from '../../core/config-schema.js';
import type { Keyring } from '../../core/keyring.js';
import type { Logger } from '../../core/logger.js';
import type { KeyValueCache, SnapshotStore } from '../../core/ports.js';
import { hashSecret } from '../../core/secrets.js';
import {
  GATEWAY_VERSION_HEADER,
  HEARTBEAT_HEADER,
  SYNC_PATH,
  SYNC_PROTOCOL_HEADER,
  SYNC_FEATURES,
  SYNC_FEATURES_HEADER,
  SYNC_PROTOCOL_VERSION,
  SYNC_SIGNATURE_HEADER,
  SYNC_WAIT_PATH,
  syncDeltaSchema,
  syncSnapshotSchema,
  syncWaitSchema,
  type Heartbeat,
  type SyncDelta,
  type SyncSnapshot,
} from '../../core/sync-contract.js';
import { credentialFingerprint, deriveSyncKey, verifyBody } from '../../core/sync-integrity.js';
import { TOLLGATE_VERSION } from '../../core/version.js';
import { buildGatewayState, EMPTY_STATE, type GatewayState, type ResolvedConfig } from './gateway-state.js';
import { mergeDelta } from '../../core/sync-merge.js';
import { prewarmSecrets } from './open-secrets.js';
import type { SealedSecret } from './sealed-secret.js';
import { cacheSnapshotStore } from './snapshot-store.js';
import { decodePersistedSnapshot, encodePersistedSnapshot } from './persisted-snapshot.js';

/** The cache key prefix of the persisted snapshot; the full key ends with the credential's fingerprint. */
export const SNAPSHOT_CACHE_KEY = 'tollgate:sync:snapshot';
export const snapshotCacheKey = (dataPlaneToken: string) => `${SNAPSHOT_CACHE_KEY}:${credentialFingerprint(hashSecret(dataPlaneToken))}`;

export type SyncState = 'waiting' | 'ok' | 'stale';
export type CacheState = 'ok' | 'down' | 'none';

export interface SyncStatus {
  syncedVersion: number;
  /** Last time the gateway confirmed its state with the control plane (a 200 or a 304). */
  lastSyncAt: string | null;
  lastSyncError: string | null;
  /** `waiting`: nothing to serve yet; `ok`: the last pull succeeded; `stale`: serving the last good state while pulls fail. */
  state: SyncState;
  /** Where the current state came from. */
  source: 'none' | 'control-plane' | 'cache';
  lastAttemptAt: string | null;
  /** Whether the long-poll push channel is connected. */
  push: boolean;
  cache: CacheState;
  persistedVersion: number;
  controlPlaneVersion: string | null;
  instanceId: string;
  counters: { full: number; delta: number; notModified: number; failures: number; pushWakeups: number; refused: number; pushedDeltas: number };
  lastApplyMs: number | null;
}

export interface SyncClientOptions {
  controlPlaneUrl: string;
  dataPlaneToken: string;
  keyring: Keyring;
  cache: KeyValueCache;
  logger: Logger;
  /** Where the last good snapshot is persisted; default: the cache, under `snapshotCacheKey(token)`. */
  snapshotStore?: SnapshotStore;
  /** Reported at each heartbeat; default `TOLLGATE_INSTANCE_ID`, else hostname-pid-random. */
  instanceId?: string;
  /** The long-poll push channel; default on. */
  push?: boolean;
  /** Long-poll timeout asked of the control plane, seconds (it caps it at 25). */
  pushTimeoutSeconds?: number;
  /** Sees the headers of every heartbeat answer, 304 included (budget usage from the control plane: limits/reconciled-usage.ts). */
  onAnswer?: (headers: Record<string, string | string[] | undefined>) => void;
  /** Extra request headers for the next pull only (budget event claims: limits/budget-claims.ts). */
  pullHeaders?: () => Record<string, string>;
  /**
   * Decrypt the virtual keys' provider keys in the background after each apply, in small slices
   * that yield to requests (default on). Off: each is decrypted on its first use only.
   */
  prewarmSecrets?: boolean;
}

// Removes its abort listener when the time is up: the client's signal lives as long as the client.
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    t.unref();
    signal?.addEventListener('abort', done, { once: true });
  });

function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const t = setTimeout(() => resolve(fallback), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(fallback);
      },
    );
  });
}

class RefusedPayload extends Error {}

const PREWARM_DELAY_MS = 250;
const PUSH_SPREAD_MS = 200;

/**
 * Keeps the gateway's state in step with the control plane (protocol 2, docs/sync.md):
 * - pulls `GET /v1/sync/snapshot?since=<version>` at start, every heartbeat, and whenever the
 *   long-poll `GET /v1/sync/wait` says the org moved; applies full snapshots and deltas, each
 *   verified (HMAC) and validated before it replaces anything;
 * - keeps the merged snapshot (secrets still encrypted) and persists it, signed, to the snapshot
 *   store (Redis or file), so a restart serves before the control plane answers;
 * - on any failure keeps the last good state: serving stale routing beats serving nothing.
 * The state LLM calls read is a plain field; no request ever waits on the network or the cache.
 */
export class SyncClient {
  private current: GatewayState = EMPTY_STATE;
  /** The merged snapshot `current` was built from: the base deltas apply to. */
  private base: SyncSnapshot | undefined;
  private decrypted = new Map<string, SealedSecret>();
  private prewarming: Promise<number> | undefined;
  private parsedConfigs = new Map<string, ResolvedConfig>();
  private status: SyncStatus;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private cacheTimer: NodeJS.Timeout | undefined;
  private persistTimer: NodeJS.Timeout | undefined;
  private persisting: Promise<void> = Promise.resolve();
  private lastPersistAt = 0;
  private readonly abort = new AbortController();
  private closed = false;
  private pushLoop: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  private readonly agent = new Agent({ keepAliveTimeout: 60_000, headersTimeout: 15_000, bodyTimeout: 60_000 });
  private readonly waitAgent = new Agent({ keepAliveTimeout: 60_000, headersTimeout: 40_000, bodyTimeout: 40_000 });
  private readonly baseUrl: string;
  private readonly payloadKey: Buffer;
  private readonly cacheKey: Buffer;
  private readonly store: SnapshotStore;

  constructor(private readonly opts: SyncClientOptions) {
    this.baseUrl = opts.controlPlaneUrl.replace(/\/+$/, '');
    const tokenHash = hashSecret(opts.dataPlaneToken);
    this.payloadKey = deriveSyncKey(tokenHash, 'payload');
    this.cacheKey = deriveSyncKey(tokenHash, 'cache');
    this.store = opts.snapshotStore ?? cacheSnapshotStore(opts.cache, snapshotCacheKey(opts.dataPlaneToken));
    const instanceId = opts.instanceId ?? process.env.TOLLGATE_INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.status = {
      syncedVersion: 0,
      lastSyncAt: null,
      lastSyncError: null,
      state: 'waiting',
      source: 'none',
      lastAttemptAt: null,
      push: false,
      cache: 'ok',
      persistedVersion: 0,
      controlPlaneVersion: null,
      instanceId,
      counters: { full: 0, delta: 0, notModified: 0, failures: 0, pushWakeups: 0, refused: 0, pushedDeltas: 0 },
      lastApplyMs: null,
    };
  }

  /** The state LLM calls read; a plain field read, never a network call. */
  get state(): GatewayState {
    return this.current;
  }

  /** The merged snapshot (secrets encrypted): for readers of arrays the gateway state does not index. */
  get snapshot(): SyncSnapshot | undefined {
    return this.base;
  }

  getStatus(): SyncStatus {
    return { ...this.status, counters: { ...this.status.counters } };
  }

  /** Seconds since the state was last confirmed with the control plane; null when never. */
  syncAgeSeconds(now = Date.now()): number | null {
    return this.status.lastSyncAt ? Math.max(0, (now - Date.parse(this.status.lastSyncAt)) / 1000) : null;
  }

  uptimeSeconds(now = Date.now()): number {
    return (now - this.startedAt) / 1000;
  }

  /** Loads the snapshot a previous run (or another task sharing the Redis) persisted. Returns whether one was usable. */
  async restoreFromCache(): Promise<boolean> {
    try {
      const raw = await withTimeout(this.store.load(), 3_000, undefined);
      if (!raw) return false;
      const persisted = decodePersistedSnapshot(this.cacheKey, raw);
      const snapshot = this.parseFull(JSON.parse(persisted.body));
      await this.apply(snapshot);
      this.status = {
        ...this.status,
        source: 'cache',
        state: 'stale',
        lastSyncAt: persisted.syncedAt,
        persistedVersion: snapshot.version,
      };
      this.opts.logger.info('restored the synced snapshot', { version: snapshot.version, store: this.store.kind, syncedAt: persisted.syncedAt });
      return true;
    } catch (err) {
      this.opts.logger.warn('the persisted snapshot is unusable; waiting for the control plane', { reason: (err as Error).message });
      return false;
    }
  }

  /** Queued behind any pull in flight, so a caller always sees a pull that started after its call. */
  syncNow(): Promise<void> {
    this.queue = this.queue.then(() => this.pull());
    return this.queue;
  }

  /** Heartbeat pulls, the push channel and the cache probe. */
  start(intervalMs: number): void {
    this.startHeartbeat(intervalMs);
    if (this.opts.push !== false) this.pushLoop ??= this.runPushLoop();
    this.cacheTimer = setInterval(() => void this.probeCache(), 5_000);
    this.cacheTimer.unref();
  }

  /**
   * Gateways started together (a deployment, a scale-out) would otherwise heartbeat in step
   * forever, hitting the control plane in bursts: the first beat comes at a random point of the
   * first interval, then every interval.
   */
  startHeartbeat(intervalMs: number): void {
    this.timer = setTimeout(() => {
      if (this.closed) return;
      void this.syncNow();
      this.timer = setInterval(() => void this.syncNow(), intervalMs);
      this.timer.unref();
    }, Math.random() * intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.timer);
    clearInterval(this.cacheTimer);
    this.abort.abort();
    await this.queue;
    await this.pushLoop?.catch(() => undefined);
    if (this.persistTimer) {
      clearTimeout(this.persistTimer);
      this.persistTimer = undefined;
      await this.persist();
    }
    await this.persisting;
    await this.prewarming;
    await Promise.all([this.agent.close(), this.waitAgent.close()]);
  }

  private headers(): Record<string, string> {
    const heartbeat: Heartbeat = {
      instance_id: this.status.instanceId,
      gateway_version: TOLLGATE_VERSION,
      synced_version: this.current.version,
      uptime_seconds: Math.round(this.uptimeSeconds()),
      cache: this.status.cache,
      sync_lag_seconds: (() => {
        const age = this.syncAgeSeconds();
        return age === null ? null : Math.round(age * 10) / 10;
      })(),
      push: this.status.push,
    };
    return {
      authorization: `Bearer ${this.opts.dataPlaneToken}`,
      [SYNC_PROTOCOL_HEADER]: String(SYNC_PROTOCOL_VERSION),
      [GATEWAY_VERSION_HEADER]: TOLLGATE_VERSION,
      [SYNC_FEATURES_HEADER]: SYNC_FEATURES.join(','),
      [HEARTBEAT_HEADER]: JSON.stringify(heartbeat),
      accept: 'application/json',
    };
  }

  private async pull(retryFull = true): Promise<void> {
    if (this.closed) return;
    this.status.lastAttemptAt = new Date().toISOString();
    try {
      const since = this.base ? this.current.version : 0;
      const headers = this.opts.pullHeaders ? { ...this.headers(), ...this.opts.pullHeaders() } : this.headers();
      const res = await request(`${this.baseUrl}${SYNC_PATH}?since=${since}`, { dispatcher: this.agent, headers, signal: this.abort.signal });
      const cpVersion = res.headers['x-tollgate-control-plane-version'];
      if (typeof cpVersion === 'string') this.status.controlPlaneVersion = cpVersion.slice(0, 64);
      if (res.statusCode === 200 || res.statusCode === 304) this.opts.onAnswer?.(res.headers);
      if (res.statusCode === 304) {
        await res.body.dump();
        this.status.counters.notModified++;
      } else if (res.statusCode === 200) {
        const raw = await res.body.text();
        const signature = res.headers[SYNC_SIGNATURE_HEADER];
        if (!verifyBody(this.payloadKey, raw, typeof signature === 'string' ? signature : undefined)) {
          throw new RefusedPayload('the sync payload is unsigned or its signature does not verify; refused');
        }
        const json = this.parseJson(raw);
        if ((json as { kind?: unknown }).kind === 'delta') {
          const delta = this.parseDelta(json);
          if (!this.base || delta.base_version !== this.current.version || delta.organisation_id !== this.base.organisation_id) {
            if (!retryFull) throw new RefusedPayload(`a delta from version ${delta.base_version} does not apply to version ${this.current.version}`);
            this.base = undefined; // ask for a full snapshot
            return await this.pull(false);
          }
          await this.apply(mergeDelta(this.base, delta));
          this.status.counters.delta++;
        } else {
          await this.apply(this.parseFull(json));
          this.status.counters.full++;
        }
        this.schedulePersist();
      } else {
        const text = await res.body.text().catch(() => '');
        let message = '';
        try {
          message = String((JSON.parse(text) as { message?: unknown }).message ?? '');
        } catch {
          // not JSON
        }
        throw new Error(
          res.statusCode === 401 || res.statusCode === 403
            ? `the control plane refused the data-plane token (${res.statusCode}); check TOLLGATE_DATA_PLANE_TOKEN`
            : res.statusCode === 409 || res.statusCode === 426
              ? `the control plane refused this gateway (${res.statusCode}): ${message.slice(0, 300)}`
              : `the control plane answered ${res.statusCode}`,
        );
      }
      this.status = {
        ...this.status,
        syncedVersion: this.current.version,
        lastSyncAt: new Date().toISOString(),
        lastSyncError: null,
        state: 'ok',
        source: 'control-plane',
      };
    } catch (err) {
      if (this.closed) return;
      const code = (err as { code?: string }).code;
      const message = code && !(err instanceof RefusedPayload) ? `could not reach the control plane: ${(err as Error).message} (${code})` : (err as Error).message || String(err);
      if (err instanceof RefusedPayload) this.status.counters.refused++;
      this.status.counters.failures++;
      if (this.status.lastSyncError !== message) {
        this.opts.logger.warn('sync failed; serving the last good snapshot', { version: this.current.version, reason: message });
      }
      this.status = { ...this.status, lastSyncError: message, state: this.current.version > 0 || this.base ? 'stale' : 'waiting' };
    }
  }

  /** A delta the push channel delivered, applied in turn with pulls. False when it does not apply (then the caller pulls). */
  private applyPushedDelta(json: unknown): Promise<boolean> {
    const applied = this.queue.then(async () => {
      if (this.closed) return true;
      try {
        if ((json as { protocol?: unknown }).protocol !== 2) throw new RefusedPayload('a pushed delta must use sync protocol 2');
        const delta = this.parseDelta(json);
        if (this.base && delta.version === this.current.version) return true; // a pull got there first
        if (!this.base || delta.base_version !== this.current.version || delta.organisation_id !== this.base.organisation_id) return false;
        await this.apply(mergeDelta(this.base, delta));
        this.status.counters.delta++;
        this.status.counters.pushedDeltas++;
        this.schedulePersist();
        this.status = { ...this.status, syncedVersion: this.current.version, lastSyncAt: new Date().toISOString(), lastSyncError: null, state: 'ok', source: 'control-plane' };
        return true;
      } catch (err) {
        if (err instanceof RefusedPayload) this.status.counters.refused++;
        this.opts.logger.warn('refused a pushed delta; pulling instead', { version: this.current.version, reason: (err as Error).message });
        return false;
      }
    });
    this.queue = applied.then(() => undefined);
    return applied;
  }

  private parseJson(raw: string): unknown {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new RefusedPayload('the snapshot is not JSON');
    }
    const protocol = (json as { protocol?: unknown } | null)?.protocol;
    if (protocol !== 1 && protocol !== 2) {
      throw new RefusedPayload(`the snapshot uses sync protocol ${String(protocol).slice(0, 20)}; this gateway (${TOLLGATE_VERSION}) speaks 1 and ${SYNC_PROTOCOL_VERSION}`);
    }
    return json;
  }

  private parseFull(json: unknown): SyncSnapshot {
    const result = syncSnapshotSchema.safeParse(json);
    if (!result.success) throw new RefusedPayload(`the snapshot does not validate: ${describeIssues(result.error)}`);
    return result.data;
  }

  private parseDelta(json: unknown): SyncDelta {
    const result = syncDeltaSchema.safeParse(json);
    if (!result.success) throw new RefusedPayload(`the delta does not validate: ${describeIssues(result.error)}`);
    const delta = result.data;
    // Each upserted entry must validate exactly as it would inside a full snapshot.
    const shape = syncSnapshotSchema.shape as Record<string, unknown>;
    for (const [field, entries] of Object.entries(delta.upserts)) {
      const element = arrayElement(shape[field]);
      if (!element) {
        delete delta.upserts[field]; // an array this gateway does not know: it would be stripped from a full snapshot too
        continue;
      }
      const parsed = element.array().safeParse(entries);
      if (!parsed.success) throw new RefusedPayload(`the delta does not validate: ${describeIssues(parsed.error, `upserts.${field}`)}`);
      delta.upserts[field] = parsed.data as Record<string, unknown>[];
    }
    return delta;
  }

  private async apply(snapshot: SyncSnapshot): Promise<void> {
    const started = performance.now();
    const previousSecrets = this.decrypted;
    const { state, decrypted, parsedConfigs } = await buildGatewayState(snapshot, this.opts.keyring, this.opts.logger, this.decrypted, this.parsedConfigs, this.base ? { snapshot: this.base, state: this.current } : undefined);
    this.current = state;
    this.base = snapshot;
    this.decrypted = decrypted;
    this.parsedConfigs = parsedConfigs;
    this.status = { ...this.status, syncedVersion: state.version, lastApplyMs: Math.round((performance.now() - started) * 100) / 100 };
    // The same secrets (a delta without virtual keys): the background decryption under way carries on.
    if (this.opts.prewarmSecrets !== false && decrypted !== previousSecrets) {
      const secrets = decrypted;
      const cancelled = () => this.closed || this.decrypted !== secrets;
      // A moment's head start for the calls that arrive right after a (re)start: they open their own keys first.
      this.prewarming = sleep(PREWARM_DELAY_MS, this.abort.signal).then(() => (cancelled() ? 0 : prewarmSecrets(secrets.values(), { cancelled })));
    }
  }

  /** Settles when the background decryption started by the last apply is done (tests, benchmarks). */
  async secretsWarm(): Promise<number> {
    return (await this.prewarming) ?? 0;
  }

  /** Persists at most every 2 s (a burst of changes writes once), off the sync path. */
  private schedulePersist(): void {
    if (this.persistTimer) return;
    const wait = Math.max(0, this.lastPersistAt + 2_000 - Date.now());
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      void this.persist();
    }, wait);
    this.persistTimer.unref();
  }

  private persist(): Promise<void> {
    this.persisting = this.persisting.then(async () => {
      const snapshot = this.base;
      if (!snapshot || snapshot.version === this.status.persistedVersion) return;
      this.lastPersistAt = Date.now();
      try {
        const persisted = await encodePersistedSnapshot(this.cacheKey, snapshot, this.status.lastSyncAt);
        await withTimeout(
          this.store.save(persisted).then(() => true),
          5_000,
          false,
        ).then((ok) => {
          if (!ok) throw new Error('the snapshot store did not answer');
        });
        this.status.persistedVersion = snapshot.version;
        if (this.status.cache === 'down') this.opts.logger.info('the snapshot store is back', { store: this.store.kind });
        this.status.cache = 'ok';
      } catch (err) {
        if (this.status.cache !== 'down') {
          this.opts.logger.warn('could not persist the snapshot; serving from memory, will retry', { store: this.store.kind, reason: (err as Error).message });
        }
        this.status.cache = 'down';
      }
    });
    return this.persisting;
  }

  /** Tracks cache health for /v1/health and the heartbeat, and re-persists once it is back. */
  private async probeCache(): Promise<void> {
    const ok = await withTimeout(this.opts.cache.ping(), 1_000, false);
    const before = this.status.cache;
    this.status.cache = ok ? 'ok' : 'down';
    if (before !== this.status.cache) this.opts.logger.info(ok ? 'cache reachable again' : 'cache unreachable; serving from memory', {});
    if (ok && this.base && this.status.persistedVersion !== this.base.version) this.schedulePersist();
  }

  /**
   * The push channel: a long-poll the gateway opens (outbound only). The control plane answers as
   * soon as the org's revision differs from ours, and we pull at once; otherwise it answers 304
   * after ~25 s and we ask again. Errors back off up to 30 s; the heartbeat keeps running regardless.
   */
  private async runPushLoop(): Promise<void> {
    let backoff = 500;
    const timeout = this.opts.pushTimeoutSeconds ?? 25;
    while (!this.closed) {
      try {
        const res = await request(`${this.baseUrl}${SYNC_WAIT_PATH}?since=${this.current.version}&timeout=${timeout}`, {
          dispatcher: this.waitAgent,
          headers: this.headers(),
          signal: this.abort.signal,
        });
        if (res.statusCode === 304) {
          await res.body.dump();
          this.status.push = true;
          backoff = 500;
          continue;
        }
        if (res.statusCode === 200) {
          const raw = await res.body.text();
          const signature = res.headers[SYNC_SIGNATURE_HEADER];
          if (!verifyBody(this.payloadKey, raw, typeof signature === 'string' ? signature : undefined)) throw new Error('unsigned push answer');
          const json = JSON.parse(raw) as { kind?: unknown };
          if (json.kind === 'delta') {
            // The change itself (`wait-delta`): applied like a pulled delta, or a pull when it does not fit.
            this.status.push = true;
            this.status.counters.pushWakeups++;
            if (!(await this.applyPushedDelta(json))) await this.syncNow();
            backoff = 500;
            // Every gateway of the org got its answer at the same moment: a short random spread keeps
            // their next waits from arriving as one burst. A change meanwhile is answered as soon as the
            // wait re-opens (it carries the older version).
            await sleep(Math.random() * PUSH_SPREAD_MS, this.abort.signal);
            continue;
          }
          const { version } = syncWaitSchema.parse(json);
          this.status.push = true;
          if (version !== this.current.version) {
            this.status.counters.pushWakeups++;
            // Every gateway of the org wakes at once: a short random spread keeps their pulls from
            // arriving as one burst (well inside the 2 s propagation target).
            await sleep(Math.random() * PUSH_SPREAD_MS, this.abort.signal);
            await this.syncNow();
            // Still behind (a refused payload, a failing pull): do not spin on an instant answer.
            if (this.current.version !== version) {
              await sleep(backoff, this.abort.signal);
              backoff = Math.min(backoff * 2, 30_000);
            } else backoff = 500;
          }
          continue;
        }
        await res.body.dump();
        if (res.statusCode === 404 || res.statusCode === 405) {
          this.opts.logger.warn('the control plane has no push channel; relying on the heartbeat', {});
          this.status.push = false;
          await sleep(300_000, this.abort.signal);
          continue;
        }
        throw new Error(`push channel answered ${res.statusCode}`);
      } catch {
        if (this.closed) return;
        this.status.push = false;
        await sleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }
}

function arrayElement(schema: unknown): { array(): { safeParse(v: unknown): { success: boolean; data?: unknown; error?: any } } } | undefined {
  let s = schema as any;
  while (s && typeof s.unwrap === 'function' && !s.element) s = s.unwrap();
  return s?.element;
}

// The merge is shared with the control plane's materialised snapshot.
export { mergeDelta };
