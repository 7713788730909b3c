import type { SyncStatus } from './sync-client.js';

/**
 * Publishes `Tollgate/SyncAgeSeconds` as CloudWatch Embedded Metric Format on stdout: the ECS log
 * driver ships it and CloudWatch turns it into the metric the DataPlane's sync-age alarm watches.
 * No SDK call and no credentials needed, and it keeps reporting while the control plane is down.
 */
export function emfSyncAgeLine(status: SyncStatus, dataPlaneName: string, now = Date.now(), startedAt = now): string {
  const since = status.lastSyncAt ? Date.parse(status.lastSyncAt) : startedAt;
  const age = Math.max(0, Math.round((now - since) / 1000));
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [{ Namespace: 'Tollgate', Dimensions: [['DataPlane']], Metrics: [{ Name: 'SyncAgeSeconds', Unit: 'Seconds' }] }],
    },
    DataPlane: dataPlaneName,
    SyncAgeSeconds: age,
  });
}

export function startSyncAgeMetric(status: () => SyncStatus, dataPlaneName: string, intervalMs = 60_000, write: (line: string) => void = (line) => void process.stdout.write(line + '\n')): () => void {
  const startedAt = Date.now();
  const timer = setInterval(() => write(emfSyncAgeLine(status(), dataPlaneName, Date.now(), startedAt)), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
