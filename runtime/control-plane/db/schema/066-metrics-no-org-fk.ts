import type { Migration } from '../migrations.js';

/**
 * Drops `request_metrics`' foreign key to `organisations` (issue 6: ingest ≥ 20,000 records/s). The
 * per-row referential check ran as a trigger query for every inserted row: 5 of ~44 ms of Postgres
 * CPU per 1,000 records (bench/ingest-metrics.ts). Nothing is lost for writes: a row can only carry
 * the organisation of the authenticated data-plane credential (the ingest route checks it, and row-
 * level security's WITH CHECK holds it to the transaction's organisation). What goes is the cascade:
 * deleting an organisation must delete its metric rows (and rollups, which never had the key);
 * there is no organisation deletion yet.
 */
export const m066: Migration = {
  id: 66,
  name: 'observability: request_metrics without the per-row organisation foreign key',
  statements: [`ALTER TABLE request_metrics DROP CONSTRAINT IF EXISTS request_metrics_organisation_id_fkey`],
};
