import type { Migration } from '../migrations.js';
import { tenantTable } from './rls.js';

/** Budget events granted to gateways (issue 9): one row per key, period and kind, so each fires once fleet-wide. */
export const m093: Migration = {
  id: 93,
  name: 'budget events',
  statements: [
    `CREATE TABLE IF NOT EXISTS budget_events (
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      scope text NOT NULL,
      entity_id text NOT NULL,
      budget_type text NOT NULL,
      period text NOT NULL,
      kind text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organisation_id, scope, entity_id, budget_type, period, kind)
    )`,
    ...tenantTable('budget_events'),
  ],
};
