import type { SqlDatabase, SqlQueryable } from '../../core/db.js';
import { APP_ROLE, ORG_SETTING, PLATFORM_ROLE, WORKSPACE_SETTING } from './schema/rls.js';

/**
 * Per-request tenant scoping. Every API request runs in one transaction that first drops to the
 * non-superuser `tollgate_app` role (so row-level security applies even on PGlite, which connects
 * as a superuser) and then names its organisation (and workspace) with transaction-local settings.
 * Nothing a handler runs can see or write another organisation's rows, whatever its WHERE clause.
 */

/** A transaction seen as a database: nested `transaction` calls join it (the caller owns commit/rollback). */
export function joinedDb(tx: SqlQueryable): SqlDatabase {
  return {
    query: (sql, params) => tx.query(sql, params),
    transaction: (fn) => fn(tx),
    close: async () => undefined,
  };
}

/** Drops this transaction to the app role; no organisation is visible until `setTenant`. */
export async function asApp(tx: SqlQueryable): Promise<void> {
  await tx.query(`SET LOCAL ROLE ${APP_ROLE}`);
}

/** `workspaces`: one id, several (an org member's), or null/empty for the whole organisation. */
export async function setTenant(tx: SqlQueryable, organisationId: string, workspaces: string | readonly string[] | null = null): Promise<void> {
  const list = workspaces === null ? '' : typeof workspaces === 'string' ? workspaces : workspaces.join(',');
  await tx.query(`SELECT set_config('${ORG_SETTING}', $1, true), set_config('${WORKSPACE_SETTING}', $2, true)`, [organisationId, list]);
}

/** Runs `fn` in a transaction as the app role, scoped to one organisation (and optionally one workspace). */
export function withTenant<T>(
  db: SqlDatabase,
  organisationId: string,
  fn: (scoped: SqlDatabase) => Promise<T>,
  workspaceId: string | null = null,
): Promise<T> {
  return db.transaction(async (tx) => {
    await asApp(tx);
    await setTenant(tx, organisationId, workspaceId);
    return fn(joinedDb(tx));
  });
}

/** Runs `fn` in a transaction as the app role with no tenant yet: for authentication, then `setTenant`. */
export function withAppRole<T>(db: SqlDatabase, fn: (tx: SqlQueryable, scoped: SqlDatabase) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await asApp(tx);
    return fn(tx, joinedDb(tx));
  });
}

/** The platform admin's role: may list and change organisations, and nothing inside them. */
export function asPlatform<T>(db: SqlDatabase, fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(`SET LOCAL ROLE ${PLATFORM_ROLE}`);
    return fn(tx);
  });
}
