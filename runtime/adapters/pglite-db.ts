import { PGlite } from '@electric-sql/pglite';
import type { SqlDatabase, SqlQueryable } from '../core/db.js';

/**
 * PGlite (Postgres compiled to WASM) behind the SqlDatabase port. With `dataDir` the database
 * persists on disk; without it, it lives in memory (tests). PGlite is one connection, so its
 * transactions are serialised: that matches what the repositories assume of Postgres.
 */
export async function pgliteDb(dataDir?: string): Promise<SqlDatabase> {
  const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  const wrap = (q: Pick<PGlite, 'query'>): SqlQueryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await q.query<T>(sql, params as unknown[]);
      return { rows: result.rows };
    },
  });
  return {
    ...wrap(pg),
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    close: () => pg.close(),
  };
}
