import type { SqlDatabase } from '../../core/db.js';
import { m001 } from './schema/001-initial.js';
import { m002 } from './schema/002-rls.js';
import { m040, m061 } from '../sync/migration.js';
import { m041, m042, m043 } from '../sync/snapshot-migration.js';
import { m008 } from './schema/008-auth.js';
import { m070 } from './schema/070-workspace-lists.js';
import { m071 } from './schema/071-sessions.js';
import { m062 } from './schema/062-list-indexes.js';
import { m007 } from './schema/007-catalogue.js';
import { m006 } from './schema/006-prompts.js';
import { m005 } from './schema/005-audit.js';
import { m004 } from './schema/004-identity.js';
import { m003 } from './schema/003-versions.js';
import { m060 } from './schema/060-observability.js';
import { m090 } from './schema/090-budget-usage.js';
import { m091 } from './schema/091-workspace-rate-limits.js';
import { m092 } from './schema/092-budget-usage-ingested.js';
import { m093 } from './schema/093-budget-events.js';
import { m063 } from './schema/063-metric-rollups.js';
import { m064 } from './schema/064-rollup-watermark.js';
import { m065 } from './schema/065-daily-rollups.js';
import { m066 } from './schema/066-metrics-no-org-fk.js';
import { m067 } from './schema/067-metadata-rollups.js';
import { m068 } from './schema/068-feedback-requests.js';
import { m069 } from './schema/069-user-sets.js';

/**
 * Ordered, append-only schema migrations. Plain Postgres SQL that runs on PGlite and on Aurora.
 * Never edit a shipped migration: add a new one. Each statement is run separately because
 * PGlite's parameterised `query` takes one statement at a time.
 */
export interface Migration {
  id: number;
  name: string;
  statements: string[];
}

export const migrations: Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m040, m041, m042, m043, m060, m061, m062, m063, m064, m065, m066, m067, m068, m069, m070, m071, m090, m091, m092, m093];

/** Any constant works; it only has to be the same for every process that migrates this database. */
const MIGRATION_LOCK_KEY = 7_302_026;

/**
 * Applies pending migrations in one transaction under a transaction-scoped advisory lock, so
 * concurrent Lambda cold starts migrate once and the others wait, then see nothing to do.
 */
export async function runMigrations(db: SqlDatabase, list: Migration[] = migrations): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await tx.query<{ id: number }>('SELECT id FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.id)));
    const applied: number[] = [];
    for (const migration of [...list].sort((a, b) => a.id - b.id)) {
      if (done.has(migration.id)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [migration.id, migration.name]);
      applied.push(migration.id);
    }
    return applied;
  });
}
