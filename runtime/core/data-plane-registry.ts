/**
 * The data-plane registry port: what each gateway instance last reported at its heartbeat, kept with
 * a TTL so instances that stopped reporting disappear. DynamoDB (TTL attribute `expires_at`) in AWS,
 * memory in dev. Writes are best effort: a registry outage never fails a sync.
 */
export interface DataPlaneRecord {
  organisation_id: string;
  instance_id: string;
  gateway_version: string | null;
  sync_protocol: number;
  synced_version: number;
  /** The org's revision when this heartbeat arrived; `control_plane_version - synced_version` = revisions behind. */
  control_plane_version: number;
  uptime_seconds: number;
  cache: 'ok' | 'down' | 'none';
  sync_lag_seconds: number | null;
  push: boolean;
  /** ISO 8601 */
  last_seen_at: string;
  /** ISO 8601 */
  first_seen_at: string;
  /** Epoch seconds after which the record is dropped. */
  expires_at: number;
}

export interface DataPlaneRegistry {
  record(entry: DataPlaneRecord): Promise<void>;
  /** The org's live (unexpired) instances, most recently seen first. */
  list(organisationId: string): Promise<DataPlaneRecord[]>;
  close(): Promise<void>;
}

/** Records expire after this many seconds without a heartbeat (10 heartbeats at the 30 s default). */
export const DATA_PLANE_TTL_SECONDS = 300;
