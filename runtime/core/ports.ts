/** Small interfaces both planes depend on; adapters in runtime/adapters implement them, chosen by configuration. */

/** The gateway's cache: the synced snapshot lives here, so a restart can serve before the control plane answers. */
export interface KeyValueCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Cheap liveness probe for health reports. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Full request/response logs, already masked. Keys look like `<org>/<workspace>/<yyyy>/<mm>/<dd>/<hh>/<log-id>.json`. */
export interface LogStore {
  put(key: string, body: string): Promise<void>;
  get(key: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Where a gateway keeps its last good synced snapshot (signed, secrets still envelope-encrypted) so
 * that a restart serves before the control plane answers: the shared cache (Redis) by default, or
 * an encrypted file when there is no Redis. `save` may be called often; implementations overwrite.
 */
export interface SnapshotStore {
  /** For health and logs, e.g. `redis` or `file:/var/lib/tollgate/snapshot`. */
  readonly kind: string;
  load(): Promise<string | undefined>;
  save(data: string): Promise<void>;
}
