import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDb } from '../../runtime/adapters/postgres-db.js';
import { syncSnapshotSchema } from '../../runtime/core/sync-contract.js';
import { migrations, runMigrations } from '../../runtime/control-plane/db/migrations.js';
import { handler as migrate } from '../../runtime/control-plane/handlers/migrate.js';
import { startTestControlPlane, tempDir, type TestControlPlane } from '../support/cp-harness.js';

/**
 * The same control plane on a real Postgres (what Aurora runs). Needs a server:
 * TOLLGATE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (a throwaway database is created in it).
 */
const adminUrl = process.env.TOLLGATE_TEST_DATABASE_URL;

describe.skipIf(!adminUrl)('control plane on real Postgres', () => {
  const dbName = `tollgate_test_${randomBytes(4).toString('hex')}`;
  let url: string;
  let t: TestControlPlane;
  let tmp: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const u = new URL(adminUrl!);
    u.pathname = `/${dbName}`;
    url = u.toString();
    tmp = await tempDir();
  });
  afterAll(async () => {
    await t?.cp.close();
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    await tmp?.cleanup();
  });

  it('concurrent migrators apply each migration once (advisory lock)', async () => {
    const dbs = [postgresDb(url), postgresDb(url), postgresDb(url)];
    try {
      const applied = await Promise.all(dbs.map((db) => runMigrations(db)));
      expect(applied.flat()).toEqual(migrations.map((m) => m.id));
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });

  it('the deploy-time migrate handler reads DATABASE_URL and finds nothing left to do (no schema change, no stale sync snapshot)', async () => {
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = url;
    try {
      expect(await migrate()).toEqual({ applied: [], snapshots: { refreshed: 0, remaining: 0 } });
    } finally {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    }
  });

  it('serves the SDK and the sync snapshot', async () => {
    t = await startTestControlPlane({ keyringFile: `${tmp.dir}/keyring.json`, databaseUrl: url });
    const cfg = await t.sdk.configs.create({ name: 'pg', config: { strategy: { mode: 'loadbalance' }, targets: [{ provider: 'openai', weight: 1 }] } });
    await t.sdk.configs.update({ slug: cfg.slug, name: 'pg2' });
    const vk = await t.sdk.virtualKeys.create({ name: 'pg', provider: 'openai', key: 'sk-postgres-secret-0000000000' });
    const key = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'service', scopes: ['configs.read', 'completions.write'], defaults: { metadata: { team: 'a' } } });
    expect((await t.sdk.apiKeys.retrieve({ id: key.id })).scopes).toEqual(['configs.read', 'completions.write']);

    const res = await fetch(`${t.cp.url}/v1/sync/snapshot`, { headers: { authorization: `Bearer ${t.cp.dataPlaneToken}` } });
    const snap = syncSnapshotSchema.parse(await res.json());
    expect(typeof snap.version).toBe('number');
    expect(snap.configs.find((c) => c.slug === cfg.slug)?.version).toBe(2);
    expect(snap.virtual_keys.map((v) => v.slug)).toContain(vk.slug);
    expect(snap.api_keys.find((k) => k.id === key.id)?.defaults).toEqual({ metadata: { team: 'a' } });
    expect((await fetch(`${t.cp.url}/v1/sync/snapshot?since=${snap.version}`, { headers: { authorization: `Bearer ${t.cp.dataPlaneToken}` } })).status).toBe(304);
  });
});
