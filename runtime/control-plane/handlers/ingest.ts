import { ingestLogsBodySchema } from '../../core/metrics.js';
import { checkIngestMetricsBody } from '../ingest/check-records.js';
import { insertMetrics } from '../../adapters/postgres-metrics.js';
import { dataPlaneCredential } from '../analytics/access.js';
import { maybeRollUp } from '../analytics/rollup-job.js';
import { setTenant, withAppRole } from '../db/tenant.js';
import { controlPlaneHandler } from '../http/handler.js';
import { forbidden } from '../http/problems.js';
import { json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { putControlPlaneLog } from '../logs/bodies.js';

/**
 * Where gateways deliver telemetry. Auth: the data-plane credential (as for sync); every record
 * and log must belong to the credential's organisation. Idempotent: a retried batch inserts
 * nothing new (`ON CONFLICT DO NOTHING` on the record id; a log key is simply written again).
 */
export const handler = controlPlaneHandler('ingest', {
  'POST /v1/ingest/metrics': async ({ ctx, headers, body }) => {
    const input = checkIngestMetricsBody(body);
    const { inserted, org } = await withAppRole(ctx.db, async (tx) => {
      const credential = await dataPlaneCredential(tx, headers);
      const org = credential.organisation_id;
      if (input.records.some((r) => r.organisation_id !== org)) throw forbidden('records belong to another organisation than this data-plane credential');
      await setTenant(tx, org);
      if (input.gateway_url) {
        await tx.query(
          `INSERT INTO data_plane_endpoints (organisation_id, credential_id, gateway_url, gateway_version, updated_at)
           VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (organisation_id, credential_id) DO UPDATE SET gateway_url = EXCLUDED.gateway_url, gateway_version = EXCLUDED.gateway_version, updated_at = now()
           WHERE data_plane_endpoints.gateway_url IS DISTINCT FROM EXCLUDED.gateway_url OR data_plane_endpoints.updated_at < now() - interval '5 minutes'`,
          [org, credential.id, input.gateway_url, input.gateway_version ?? null],
        );
      }
      return { inserted: await insertMetrics(tx, org, input.records, credential.id), org };
    });
    if (inserted) await maybeRollUp(ctx.db, ctx.logger);
    // The opt-in sink (Timestream) after Postgres committed: a failure here makes the gateway retry,
    // and the retry is a no-op in Postgres.
    if (ctx.metricsStore && input.records.length) await ctx.metricsStore.write(input.records);
    return json(200, { status: 'success', organisation_id: org, accepted: input.records.length, inserted });
  },

  'POST /v1/ingest/logs': async ({ ctx, headers, body }) => {
    const input = validate(ingestLogsBodySchema, body);
    await withAppRole(ctx.db, async (tx, scoped) => {
      const credential = await dataPlaneCredential(tx, headers);
      const org = credential.organisation_id;
      for (const log of input.logs) {
        if (log.organisation_id !== org || !log.key.startsWith(`${org}/`) || !log.key.endsWith(`/${log.id}.json`)) {
          throw forbidden('a log belongs to another organisation than this data-plane credential');
        }
      }
      await setTenant(tx, org);
      for (const log of input.logs) await putControlPlaneLog(ctx, scoped, org, log.key, log.ciphertext);
    });
    return json(200, { status: 'success', accepted: input.logs.length });
  },
});
