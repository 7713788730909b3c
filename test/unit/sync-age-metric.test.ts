import { describe, expect, it } from 'vitest';
import { emfSyncAgeLine, startSyncAgeMetric } from '../../runtime/gateway/sync/sync-age-metric.js';
import type { SyncStatus } from '../../runtime/gateway/sync/sync-client.js';

const status = (lastSyncAt: string | null) => ({ lastSyncAt }) as unknown as SyncStatus;

describe('Tollgate/SyncAgeSeconds (EMF)', () => {
  it('is an Embedded Metric Format line CloudWatch turns into the alarm metric', () => {
    const now = Date.parse('2026-01-01T00:01:30Z');
    const line = JSON.parse(emfSyncAgeLine(status('2026-01-01T00:00:00Z'), 'prod-eu', now));
    expect(line).toEqual({
      _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: 'Tollgate', Dimensions: [['DataPlane']], Metrics: [{ Name: 'SyncAgeSeconds', Unit: 'Seconds' }] }] },
      DataPlane: 'prod-eu',
      SyncAgeSeconds: 90,
    });
  });

  it('counts from process start when the gateway has never synced, so a dead control plane alarms', () => {
    const started = Date.parse('2026-01-01T00:00:00Z');
    expect(JSON.parse(emfSyncAgeLine(status(null), 'x', started + 600_000, started)).SyncAgeSeconds).toBe(600);
  });

  it('keeps publishing on its interval until stopped', async () => {
    const lines: string[] = [];
    const stop = startSyncAgeMetric(() => status(new Date().toISOString()), 'x', 10, (l) => lines.push(l));
    await new Promise((r) => setTimeout(r, 60));
    stop();
    const count = lines.length;
    expect(count).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 40));
    expect(lines.length).toBe(count);
  });
});
