import type { Migration } from '../migrations.js';

/**
 * Budget reconciliation (issue 9; ids 90-99 are the limits area's) sums each budgeted key's
 * successful requests since its period start on heartbeats. Partial indexes per key kind keep
 * that an index range per key instead of a scan of the org's whole period; INCLUDE lets the sum
 * read the index alone.
 */
export const m090: Migration = {
  id: 90,
  name: 'budget usage indexes',
  statements: [
    `CREATE INDEX IF NOT EXISTS request_metrics_budget_api_key ON request_metrics (organisation_id, api_key_id, created_at) INCLUDE (cost, total_units) WHERE success`,
    `CREATE INDEX IF NOT EXISTS request_metrics_budget_virtual_key ON request_metrics (organisation_id, virtual_key, created_at) INCLUDE (cost, total_units) WHERE success`,
  ],
};
