import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startTestControlPlane, tempDir, type TestControlPlane } from './cp-harness.js';
import type { ControlPlaneOptions } from '../../runtime/control-plane/server.js';

/** The two database engines every control-plane route runs on: PGlite and a real PostgreSQL server. */
export type Engine = 'pglite' | 'postgres';

const adminUrl = process.env.TOLLGATE_TEST_DATABASE_URL;
/** PGlite always; real Postgres when the global setup (or the caller) provided one. */
export const engines: Engine[] = adminUrl ? ['pglite', 'postgres'] : ['pglite'];

export interface EngineControlPlane extends TestControlPlane {
  engine: Engine;
  stop(): Promise<void>;
}

/** A throwaway database on the test server (dropped by `drop`), or undefined for PGlite. */
export async function postgresDatabase(engine: Engine): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  if (engine !== 'postgres') return { url: undefined, drop: async () => undefined };
  const name = `tollgate_t_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl!);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A fresh control plane on `engine`: in-memory PGlite, or a throwaway database on the test server. */
export async function startOn(engine: Engine, opts: Partial<ControlPlaneOptions> = {}): Promise<EngineControlPlane> {
  const tmp = await tempDir();
  const database = await postgresDatabase(engine);
  const t = await startTestControlPlane({ keyringFile: `${tmp.dir}/keyring.json`, databaseUrl: database.url, ...opts });
  return {
    ...t,
    engine,
    async stop() {
      await t.cp.close();
      await database.drop();
      await tmp.cleanup();
    },
  };
}
