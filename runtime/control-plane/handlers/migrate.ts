import { databaseFromEnv } from '../context.js';
import { runMigrations } from '../db/migrations.js';
import { refreshStaleSnapshots } from '../sync/materialised.js';

/**
 * Deploy-time migrations (a CDK Trigger invokes this once per deploy). Throwing fails the deploy,
 * which is what we want when the schema cannot be brought up to date. Then the orgs' stored sync
 * snapshots are rebuilt for this build, so no gateway's first full sync after the deploy pays for
 * it; that part is best effort (a failure is reported, the deploy goes on).
 */
export async function handler(): Promise<{ applied: number[]; snapshots: { refreshed: number; remaining: number } | { error: string } }> {
  const db = await databaseFromEnv();
  try {
    const applied = await runMigrations(db);
    const snapshots = await refreshStaleSnapshots(db, { budgetMs: 3 * 60_000 })
      .then((r) => ({ refreshed: r.refreshed.length, remaining: r.remaining }))
      .catch((err: Error) => ({ error: err.message }));
    return { applied, snapshots };
  } finally {
    await db.close();
  }
}
