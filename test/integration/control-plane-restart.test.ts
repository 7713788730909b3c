import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pgliteDb } from '../../runtime/adapters/pglite-db.js';
import { virtualKeyContext } from '../../runtime/core/keyring.js';
import { migrations, runMigrations } from '../../runtime/control-plane/db/migrations.js';
import { startTestControlPlane, tempDir } from '../support/cp-harness.js';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

describe('control plane persistence', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('a restart on the same data dir keeps data, keys and the data-plane token', async () => {
    const tmp = await tempDir();
    cleanups.push(tmp.cleanup);
    const keyringFile = join(tmp.dir, 'keyring.json');
    const secret = 'sk-persisted-secret-0123456789abcdef';

    const first = await startTestControlPlane({ keyringFile, dataDir: tmp.dir });
    const cfg = await first.sdk.configs.create({ name: 'kept', config: { provider: 'openai' } });
    const vk = await first.sdk.virtualKeys.create({ name: 'kept', provider: 'openai', key: secret });
    const issued = await first.sdk.apiKeys.create({ type: 'organisation', 'sub-type': 'service', scopes: ['configs.read'] });
    const { adminApiKey, dataPlaneToken, organisationId } = first.cp;
    const versionBefore = ((await (await fetch(`${first.cp.url}/v1/sync/snapshot`, { headers: { authorization: `Bearer ${dataPlaneToken}` } })).json()) as { version: number }).version;
    await first.cp.close();

    // The database files on disk hold the provider secret only encrypted.
    for (const file of await filesUnder(join(tmp.dir, 'db'))) {
      if ((await stat(file)).size > 0) expect((await readFile(file)).includes(secret), file).toBe(false);
    }

    const second = await startTestControlPlane({ keyringFile, dataDir: tmp.dir, adminApiKey, dataPlaneToken });
    try {
      expect(second.cp).toMatchObject({ organisationId, adminApiKey, dataPlaneToken });
      expect((await second.sdk.configs.retrieve({ slug: cfg.slug })).name).toBe('kept');
      expect((await second.sdk.virtualKeys.retrieve({ slug: vk.slug })).masked_api_key).toMatch(/^sk-p\*+cdef$/);
      expect((await second.sdkWith(issued.key!).configs.retrieve({ slug: cfg.slug })).slug).toBe(cfg.slug);
      expect((await second.sdk.apiKeys.list({})).data).toHaveLength(2);

      const res = await fetch(`${second.cp.url}/v1/sync/snapshot`, { headers: { authorization: `Bearer ${dataPlaneToken}` } });
      const snap = (await res.json()) as { version: number; virtual_keys: Array<{ slug: string; encrypted_key: string }> };
      expect(snap.version).toBeGreaterThanOrEqual(versionBefore);
      const entry = snap.virtual_keys.find((v) => v.slug === vk.slug)!;
      expect((await second.keyring.decrypt(entry.encrypted_key, virtualKeyContext(organisationId, second.cp.defaultWorkspaceId, vk.slug!))).toString()).toBe(secret);
    } finally {
      await second.cp.close();
    }
  });

  it('an admin key given on a later start (TOLLGATE_ADMIN_API_KEY) is added next to the first one', async () => {
    const tmp = await tempDir();
    cleanups.push(tmp.cleanup);
    const keyringFile = join(tmp.dir, 'keyring.json');
    const first = await startTestControlPlane({ keyringFile, dataDir: tmp.dir });
    const generated = first.cp.adminApiKey;
    await first.cp.close();

    const chosen = 'tg-chosen-admin-key-for-this-install-000';
    const second = await startTestControlPlane({ keyringFile, dataDir: tmp.dir, adminApiKey: chosen, dataPlaneToken: first.cp.dataPlaneToken });
    try {
      expect(second.cp.adminApiKey).toBe(chosen);
      expect(second.cp.organisationId).toBe(first.cp.organisationId);
      await expect(second.sdkWith(chosen).configs.list()).resolves.toMatchObject({ object: 'list' });
      await expect(second.sdkWith(generated).configs.list()).resolves.toMatchObject({ object: 'list' });
      const orgs = await second.cp.db.query<{ n: number }>('SELECT count(*)::int AS n FROM organisations');
      expect(orgs.rows[0].n).toBe(1);
    } finally {
      await second.cp.close();
    }
  });

  it('migrations are idempotent and recorded', async () => {
    const db = await pgliteDb();
    try {
      expect(await runMigrations(db)).toEqual(migrations.map((m) => m.id));
      expect(await runMigrations(db)).toEqual([]);
      const { rows } = await db.query<{ id: number }>('SELECT id FROM schema_migrations');
      expect(rows.map((r) => r.id)).toEqual(migrations.map((m) => m.id));
    } finally {
      await db.close();
    }
  });
});
