import { describe, expect, it } from 'vitest';
import { observabilityFromEnv } from '../../runtime/control-plane/logs/env.js';

describe('metrics store from the environment: where analytics are read', () => {
  it('TOLLGATE_METRICS_STORE=timestream writes to and reads analytics from Timestream', async () => {
    const o = await observabilityFromEnv({ TOLLGATE_METRICS_STORE: 'timestream', TOLLGATE_TIMESTREAM_DATABASE: 'db', TOLLGATE_TIMESTREAM_TABLE: 't', AWS_REGION: 'eu-west-1' });
    expect(o.metricsStore).toBeDefined();
    expect(o.analytics?.kind).toBe('timestream');
    await o.metricsStore?.close();
  });

  it('the default (postgres) leaves analytics on Postgres', async () => {
    expect((await observabilityFromEnv({})).analytics).toBeUndefined();
    expect((await observabilityFromEnv({ TOLLGATE_METRICS_STORE: 'postgres' })).analytics).toBeUndefined();
  });

  it('timestream without its names fails the cold start', async () => {
    await expect(observabilityFromEnv({ TOLLGATE_METRICS_STORE: 'timestream', TOLLGATE_TIMESTREAM_DATABASE: 'db' })).rejects.toThrow(/TOLLGATE_TIMESTREAM_TABLE/);
  });
});
