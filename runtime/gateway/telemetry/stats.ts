import type { RequestLogger, TelemetryStats } from './types.js';

/** All live telemetry instances: `telemetryStats()` reports them for health and Prometheus. */
export const liveTelemetry = new Set<RequestLogger>();

/** Counters of every running gateway in this process (normally one): for /metrics and health. */
export function telemetryStats(): TelemetryStats[] {
  return [...liveTelemetry].map((t) => t.stats());
}

/** Prometheus text lines for the telemetry counters (no HELP/TYPE duplication across gateways). */
export function telemetryPrometheus(): string {
  const stats = telemetryStats();
  const lines = [
    '# HELP tollgate_telemetry_spool_bytes Bytes waiting in the telemetry spool.',
    '# TYPE tollgate_telemetry_spool_bytes gauge',
    '# HELP tollgate_telemetry_spooled_items Metric records and logs waiting in the spool.',
    '# TYPE tollgate_telemetry_spooled_items gauge',
    '# HELP tollgate_telemetry_dropped_total Metric records and logs a full spool dropped.',
    '# TYPE tollgate_telemetry_dropped_total counter',
    '# HELP tollgate_telemetry_sent_total Metric records and logs delivered.',
    '# TYPE tollgate_telemetry_sent_total counter',
    '# HELP tollgate_requests_rejected_total Requests that failed before routing, by whether a metric record could name the API key.',
    '# TYPE tollgate_requests_rejected_total counter',
  ];
  for (const s of stats) {
    lines.push(`tollgate_telemetry_spool_bytes ${s.spool.used_bytes}`);
    for (const kind of ['metrics', 'logs'] as const) {
      lines.push(`tollgate_telemetry_spooled_items{kind="${kind}"} ${s[kind].spooledItems}`);
      lines.push(`tollgate_telemetry_dropped_total{kind="${kind}"} ${s[kind].droppedItems}`);
      lines.push(`tollgate_telemetry_sent_total{kind="${kind}"} ${s[kind].sentItems}`);
    }
    lines.push(`tollgate_requests_rejected_total{reason="recorded"} ${s.rejected.recorded}`);
    lines.push(`tollgate_requests_rejected_total{reason="unauthenticated"} ${s.rejected.unauthenticated}`);
  }
  return lines.join('\n') + '\n';
}
