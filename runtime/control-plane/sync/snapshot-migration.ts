import type { Migration } from '../db/migrations.js';
import { tenantTable } from '../db/schema/rls.js';

/**
 * The materialised full snapshot of each org (materialised.ts): one row per org with the revision it
 * holds and its serialised protocol-2 body (secrets inside stay Encryption SDK messages, exactly as
 * sent to gateways). A process or a cold Lambda container reads this row and rolls it forward with
 * the change log instead of rebuilding the snapshot from the tables.
 */
export const m041: Migration = {
  id: 41,
  name: 'sync materialised snapshots',
  statements: [
    `CREATE TABLE sync_snapshots (
      organisation_id text PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
      revision bigint NOT NULL,
      snapshot text NOT NULL,
      built_at timestamptz NOT NULL DEFAULT now()
    )`,
    ...tenantTable('sync_snapshots'),
  ],
};

/** Where each array sits in the stored body (materialised.ts): a reader re-serialises only the arrays it rolls forward. */
export const m042: Migration = {
  id: 42,
  name: 'sync materialised snapshot chunk offsets',
  statements: ['ALTER TABLE sync_snapshots ADD COLUMN parts jsonb'],
};

/**
 * Which control-plane build wrote the stored snapshot (materialised.ts): a new build (new entry
 * mappers, a new shipped price catalogue) does not roll forward an older build's snapshot, whose
 * rows the change log would not describe as changed.
 */
export const m043: Migration = {
  id: 43,
  name: 'sync materialised snapshot build',
  statements: ['ALTER TABLE sync_snapshots ADD COLUMN built_by text'],
};
