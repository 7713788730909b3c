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
