import { databaseFromEnv } from '../context.js';
import { runMigrations } from '../db/migrations.js';

/**
 * Deploy-time migrations (a CDK Trigger invokes this once per deploy). Throwing fails the deploy,
 * which is what we want when the schema cannot be brought up to date.
 */
export async function handler(): Promise<{ applied: number[] }> {
  const db = await databaseFromEnv();
  try {
    return { applied: await runMigrations(db) };
  } finally {
    await db.close();
  }
}
