import type { Migration } from '../migrations.js';

/**
 * Budget reconciliation reads, on each heartbeat, only the metric rows ingested since its last
 * read (control-plane/usage/budget-usage.ts): an index range on ingested_at per org.
 */
export const m092: Migration = {
  id: 92,
  name: 'budget usage by ingestion time',
  statements: [
    `CREATE INDEX IF NOT EXISTS request_metrics_budget_ingested ON request_metrics (organisation_id, ingested_at) INCLUDE (api_key_id, virtual_key, created_at, cost, total_units) WHERE success`,
  ],
};
