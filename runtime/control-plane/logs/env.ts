import type { AnalyticsSource } from '../../core/analytics.js';
import type { MetricsStore } from '../../core/metrics.js';
import type { LogStore } from '../../core/ports.js';

/**
 * Observability settings from the control plane's Lambda environment, for context.ts:
 *   TOLLGATE_CP_LOG_BUCKET, TOLLGATE_CP_LOG_PREFIX   control-plane-mode logs in S3 (default: the database)
 *   TOLLGATE_METRICS_STORE=timestream                also write metric records to Timestream, and read the
 *                                                    analytics graphs and groups from it (feedback, logs: Postgres)
 *   TOLLGATE_TIMESTREAM_DATABASE, TOLLGATE_TIMESTREAM_TABLE, TOLLGATE_TIMESTREAM_DISCOVERY_ENDPOINT (optional)
 */
type Observability = { logStore?: LogStore; metricsStore?: MetricsStore; analytics?: AnalyticsSource };

export async function observabilityFromEnv(env: NodeJS.ProcessEnv): Promise<Observability> {
  const out: Observability = {};
  if (env.TOLLGATE_CP_LOG_BUCKET?.trim()) {
    const { s3LogStore } = await import('../../adapters/s3-log-store.js');
    out.logStore = s3LogStore({ bucket: env.TOLLGATE_CP_LOG_BUCKET.trim(), prefix: env.TOLLGATE_CP_LOG_PREFIX?.trim() || undefined });
  }
  const kind = env.TOLLGATE_METRICS_STORE?.trim() || 'postgres';
  if (kind === 'timestream') {
    const database = env.TOLLGATE_TIMESTREAM_DATABASE?.trim();
    const table = env.TOLLGATE_TIMESTREAM_TABLE?.trim();
    if (!database || !table) throw new Error('TOLLGATE_METRICS_STORE=timestream needs TOLLGATE_TIMESTREAM_DATABASE and TOLLGATE_TIMESTREAM_TABLE');
    const [{ timestreamMetricsStore }, { timestreamAnalytics }] = await Promise.all([
      import('../../adapters/timestream-metrics.js'),
      import('../../adapters/timestream-analytics.js'),
    ]);
    const discoveryEndpoint = env.TOLLGATE_TIMESTREAM_DISCOVERY_ENDPOINT?.trim() || undefined;
    out.metricsStore = timestreamMetricsStore({ database, table, discoveryEndpoint });
    out.analytics = timestreamAnalytics({ database, table, discoveryEndpoint });
  } else if (kind !== 'postgres') {
    throw new Error(`TOLLGATE_METRICS_STORE must be postgres or timestream, got "${kind}"`);
  }
  return out;
}
