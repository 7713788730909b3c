import type { Migration } from '../db/migrations.js';
import { tenantTable } from '../db/schema/rls.js';
import { changeLogStatements } from './change-log.js';

/** The per-org change log behind sync deltas (see change-log.ts). */
export const m040: Migration = {
  id: 40,
  name: 'sync change log',
  statements: changeLogStatements(tenantTable('sync_changes')),
};
