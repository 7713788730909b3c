/**
 * The control plane's database port: just enough of Postgres for repositories to run unchanged
 * on PGlite (dev, tests) and on Aurora/Postgres (AWS). Parameters are always positional ($1, $2...).
 */
export interface SqlQueryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: T[] }>;
}

export interface SqlDatabase extends SqlQueryable {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
