import { TOLLGATE_VERSION } from '../../core/version.js';
import type { SyncClient } from './sync-client.js';

/**
 * `GET /v1/health` and `GET /metrics` for the sync side of the gateway.
 *
 * Health answers 200 unless a staleness limit is set (`TOLLGATE_MAX_SYNC_AGE` seconds, or the
 * `maxSyncAgeSeconds` option) and the state is older than it, or there is no state at all: then 503,
 * so a load balancer can pull a gateway that has served stale routing for too long. By default the
 * limit is off: static stability says keep serving the last good state.
 */
export function maxSyncAgeFromEnv(env = process.env): number | undefined {
  const n = Number(env.TOLLGATE_MAX_SYNC_AGE);
  return env.TOLLGATE_MAX_SYNC_AGE && Number.isFinite(n) && n > 0 ? n : undefined;
}

export function healthReport(sync: SyncClient, maxSyncAgeSeconds: number | undefined): { statusCode: number; body: unknown } {
  const status = sync.getStatus();
  const age = sync.syncAgeSeconds();
  const hasState = sync.state.version > 0;
  const tooOld = maxSyncAgeSeconds !== undefined && (age === null || age > maxSyncAgeSeconds);
  const healthy = maxSyncAgeSeconds === undefined || (hasState && !tooOld);
  return {
    statusCode: healthy ? 200 : 503,
    body: {
      status: !hasState ? 'waiting_for_sync' : tooOld ? 'stale' : 'ok',
      version: TOLLGATE_VERSION,
      instance_id: status.instanceId,
      uptime_seconds: Math.round(sync.uptimeSeconds()),
      sync: {
        state: status.state,
        source: status.source,
        syncedVersion: status.syncedVersion,
        ageSeconds: age === null ? null : Math.round(age * 10) / 10,
        maxAgeSeconds: maxSyncAgeSeconds ?? null,
        lastSyncAt: status.lastSyncAt,
        lastAttemptAt: status.lastAttemptAt,
        lastSyncError: status.lastSyncError,
        push: status.push,
        controlPlaneVersion: status.controlPlaneVersion,
      },
      cache: { state: status.cache, persistedVersion: status.persistedVersion },
    },
  };
}

function line(name: string, help: string, type: 'gauge' | 'counter', value: number | null, labels = ''): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name}${labels} ${value === null ? 'NaN' : value}\n`;
}

/** Prometheus text exposition (version 0.0.4) of the sync metrics. */
export function syncMetrics(sync: SyncClient): string {
  const s = sync.getStatus();
  const age = sync.syncAgeSeconds();
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return [
    line('tollgate_gateway_info', 'Gateway build and instance.', 'gauge', 1, `{version="${esc(TOLLGATE_VERSION)}",instance_id="${esc(s.instanceId)}"}`),
    line('tollgate_sync_age_seconds', 'Seconds since the gateway last confirmed its state with the control plane (NaN: never).', 'gauge', age === null ? null : Math.round(age * 1000) / 1000),
    line('tollgate_sync_version', 'Org revision the gateway serves.', 'gauge', s.syncedVersion),
    `# HELP tollgate_sync_state Sync state (1 for the current one).\n# TYPE tollgate_sync_state gauge\n` +
      (['waiting', 'ok', 'stale'] as const).map((st) => `tollgate_sync_state{state="${st}"} ${s.state === st ? 1 : 0}\n`).join(''),
    line('tollgate_sync_push_connected', 'Whether the long-poll push channel is connected.', 'gauge', s.push ? 1 : 0),
    line('tollgate_cache_up', 'Whether the snapshot cache (Redis or file) is reachable.', 'gauge', s.cache === 'ok' ? 1 : 0),
    line('tollgate_sync_persisted_version', 'Org revision of the persisted snapshot.', 'gauge', s.persistedVersion),
    `# HELP tollgate_sync_pulls_total Sync pulls by result.\n# TYPE tollgate_sync_pulls_total counter\n` +
      `tollgate_sync_pulls_total{result="full"} ${s.counters.full}\n` +
      `tollgate_sync_pulls_total{result="delta"} ${s.counters.delta}\n` +
      `tollgate_sync_pulls_total{result="not_modified"} ${s.counters.notModified}\n` +
      `tollgate_sync_pulls_total{result="failed"} ${s.counters.failures}\n`,
    line('tollgate_sync_refused_payloads_total', 'Payloads refused (bad signature, unknown protocol, invalid).', 'counter', s.counters.refused),
    line('tollgate_sync_push_wakeups_total', 'Changes announced by the push channel.', 'counter', s.counters.pushWakeups),
    line('tollgate_sync_pushed_deltas_total', 'Deltas received and applied from the push channel (no pull needed).', 'counter', s.counters.pushedDeltas),
    line('tollgate_sync_last_apply_seconds', 'Time to build the state from the last payload.', 'gauge', s.lastApplyMs === null ? null : s.lastApplyMs / 1000),
    line('tollgate_uptime_seconds', 'Seconds since the gateway started.', 'gauge', Math.round(sync.uptimeSeconds())),
  ].join('');
}
