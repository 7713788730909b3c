import type { MetricsStore } from '../../core/metrics.js';
import type { LogStore } from '../../core/ports.js';

/**
 * Observability settings from the control plane's Lambda environment, for context.ts:
 *   TOLLGATE_CP_LOG_BUCKET, TOLLGATE_CP_LOG_PREFIX   control-plane-mode logs in S3 (default: the database)
 *   TOLLGATE_METRICS_STORE=timestream                also write metric records to Timestream
 *   TOLLGATE_TIMESTREAM_DATABASE, TOLLGATE_TIMESTREAM_TABLE, TOLLGATE_TIMESTREAM_DISCOVERY_ENDPOINT (optional)
 */
export async function observabilityFromEnv(env: NodeJS.ProcessEnv): Promise<{ logStore?: LogStore; metricsStore?: MetricsStore }> {
  const out: { logStore?: LogStore; metricsStore?: MetricsStore } = {};
  if (env.TOLLGATE_CP_LOG_BUCKET?.trim()) {
    const { s3LogStore } = await import('../../adapters/s3-log-store.js');
    out.logStore = s3LogStore({ bucket: env.TOLLGATE_CP_LOG_BUCKET.trim(), prefix: env.TOLLGATE_CP_LOG_PREFIX?.trim() || undefined });
  }
  const kind = env.TOLLGATE_METRICS_STORE?.trim() || 'postgres';
  if (kind === 'timestream') {
    const database = env.TOLLGATE_TIMESTREAM_DATABASE?.trim();
    const table = env.TOLLGATE_TIMESTREAM_TABLE?.trim();
    if (!database || !table) throw new Error('TOLLGATE_METRICS_STORE=timestream needs TOLLGATE_TIMESTREAM_DATABASE and TOLLGATE_TIMESTREAM_TABLE');
    const { timestreamMetricsStore } = await import('../../adapters/timestream-metrics.js');
    out.metricsStore = timestreamMetricsStore({ database, table, discoveryEndpoint: env.TOLLGATE_TIMESTREAM_DISCOVERY_ENDPOINT?.trim() || undefined });
  } else if (kind !== 'postgres') {
    throw new Error(`TOLLGATE_METRICS_STORE must be postgres or timestream, got "${kind}"`);
  }
  return out;
}
