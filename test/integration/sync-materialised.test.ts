import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresDb } from '../../runtime/adapters/postgres-db.js';
import type { SqlDatabase } from '../../runtime/core/db.js';
import { hashSecret } from '../../runtime/core/secrets.js';
import { GATEWAY_VERSION_HEADER, SYNC_PATH, SYNC_PROTOCOL_HEADER, SYNC_SIGNATURE_HEADER, syncEntryKey, syncSnapshotSchema, type SyncSnapshot } from '../../runtime/core/sync-contract.js';
import { deriveSyncKey, verifyBody } from '../../runtime/core/sync-integrity.js';
import { mutateOrg, orgRevision } from '../../runtime/control-plane/db/revision.js';
import { asApp, setTenant } from '../../runtime/control-plane/db/tenant.js';
import { pruneChangeLog } from '../../runtime/control-plane/sync/change-log.js';
import { flushMaterialised, forgetMaterialised, materialise, refreshStaleSnapshots, snapshotBody, snapshotBuild } from '../../runtime/control-plane/sync/materialised.js';
import { readSnapshot } from '../../runtime/control-plane/sync/snapshot.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

/** A snapshot with its arrays in key order and without its generation time: equal iff the state is equal. */
function normalised(s: SyncSnapshot): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(s)) {
    if (field === 'generated_at') continue;
    out[field] = Array.isArray(value)
      ? [...(value as Record<string, unknown>[])].sort((a, b) => (syncEntryKey(field, a) < syncEntryKey(field, b) ? -1 : 1))
      : value;
  }
  return out;
}

/** The org read straight from the tables, at its current revision: what a materialised snapshot must equal. */
function fromTables(db: SqlDatabase, org: string): Promise<SyncSnapshot> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await asApp(tx);
    await setTenant(tx, org);
    const { rows } = await tx.query<{ revision: string | number }>('SELECT revision FROM organisations WHERE id = $1', [org]);
    return readSnapshot(tx, org, Number(rows[0]!.revision));
  });
}

describe.each(engines)('materialised sync snapshot (%s)', (engine) => {
  let t: EngineControlPlane;
  let org: string;
  beforeAll(async () => {
    t = await startOn(engine);
    org = t.cp.organisationId;
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function fullSync(): Promise<SyncSnapshot> {
    const res = await fetch(`${t.cp.url}${SYNC_PATH}`, {
      headers: { authorization: `Bearer ${t.cp.dataPlaneToken}`, [SYNC_PROTOCOL_HEADER]: '2', [GATEWAY_VERSION_HEADER]: '0.1.0' },
    });
    const body = await res.text();
    expect(res.status).toBe(200);
    // Integrity is unchanged: the shared body is signed per credential.
    expect(verifyBody(deriveSyncKey(hashSecret(t.cp.dataPlaneToken), 'payload'), body, res.headers.get(SYNC_SIGNATURE_HEADER))).toBe(true);
    return syncSnapshotSchema.parse(JSON.parse(body));
  }

  it('a change followed by a full sync returns the new state, rolled forward rather than rebuilt', async () => {
    const before = await fullSync();
    const vk = await t.sdk.virtualKeys.create({ name: 'mat-vk', provider: 'openai', key: 'sk-materialised-000000' });
    const cfg = await t.sdk.configs.create({ name: 'mat-cfg', config: { virtual_key: vk.slug } });
    // Immediately, before any background refresh could run.
    const after = await fullSync();
    expect(after.version).toBe(await orgRevision(t.cp.db, org));
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.virtual_keys.map((v) => v.slug)).toContain(vk.slug);
    expect(after.configs.find((c) => c.slug === cfg.slug)?.config).toEqual({ virtual_key: vk.slug });
    expect(JSON.stringify(after)).not.toContain('sk-materialised-000000');

    await t.sdk.configs.update({ slug: cfg.slug, config: { provider: 'anthropic' } });
    await t.sdk.virtualKeys.delete({ slug: vk.slug });
    const built = await materialise(t.cp.db, org);
    expect(built?.source).toBe('memory+log');
    expect(normalised(built!.snapshot)).toEqual(normalised(await fromTables(t.cp.db, org)));
    expect(built!.snapshot.virtual_keys.map((v) => v.slug)).not.toContain(vk.slug);
  });

  it('a mutation rolls the materialised snapshot forward in the background', async () => {
    await fullSync();
    await t.sdk.configs.create({ name: 'mat-bg', config: { provider: 'openai' } });
    const revision = await orgRevision(t.cp.db, org);
    await vi.waitFor(async () => expect((await materialise(t.cp.db, org, revision))?.source).toBe('current'), { timeout: 5_000, interval: 50 });
  });

  it('a second control-plane instance reads the stored snapshot and rolls it forward with the log', async () => {
    await fullSync();
    await flushMaterialised(t.cp.db, org);
    const stored = await t.cp.db.query<{ revision: string | number }>('SELECT revision FROM sync_snapshots WHERE organisation_id = $1', [org]);
    expect(Number(stored.rows[0]!.revision)).toBe(await orgRevision(t.cp.db, org));
    // A change this process does not see (as if made by another instance): no refresh, no nudge.
    const key = await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'service', scopes: ['completions.write'] });
    await t.cp.db.query(`UPDATE api_keys SET status = 'revoked' WHERE id = $1`, [key.id]);

    let second: SqlDatabase;
    if (engine === 'postgres') {
      const url = new URL(process.env.TOLLGATE_TEST_DATABASE_URL!);
      url.pathname = `/${await currentDatabase(t.cp.db)}`;
      second = postgresDb(url.toString());
    } else {
      // One PGlite per process: a new process is this one with its memory forgotten.
      forgetMaterialised(t.cp.db);
      second = t.cp.db;
    }
    try {
      const built = await materialise(second, org);
      expect(built?.source).toBe('stored+log');
      expect(built!.snapshot.version).toBe(await orgRevision(t.cp.db, org));
      expect(built!.snapshot.api_keys.find((k) => k.id === key.id)?.status).toBe('revoked');
      expect(normalised(built!.snapshot)).toEqual(normalised(await fromTables(t.cp.db, org)));
      // Assembled from the stored body's chunks and the re-serialised changed array: byte for byte the plain serialisation.
      expect(snapshotBody(built!.snapshot)).toBe(JSON.stringify({ ...built!.snapshot, protocol: 2, kind: 'full' }));
    } finally {
      if (second !== t.cp.db) await second.close();
    }
  });

  it('concurrent full syncs share one materialisation, and in Lambda a rebuild is stored before answering', async () => {
    await t.cp.db.query(`UPDATE workspaces SET rate_limits = NULL WHERE organisation_id = $1`, [org]);
    const revision = await orgRevision(t.cp.db, org);
    const all = await Promise.all(Array.from({ length: 5 }, () => materialise(t.cp.db, org, revision)));
    expect(new Set(all.map((b) => b!.snapshot)).size).toBe(1);
    expect(all[0]!.snapshot.version).toBe(revision);

    await flushMaterialised(t.cp.db, org);
    forgetMaterialised(t.cp.db);
    await t.cp.db.query('DELETE FROM sync_snapshots WHERE organisation_id = $1', [org]);
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'tollgate-sync-test';
    try {
      const built = await materialise(t.cp.db, org);
      expect(built?.source).toBe('rebuilt');
      const stored = await t.cp.db.query<{ revision: string | number }>('SELECT revision FROM sync_snapshots WHERE organisation_id = $1', [org]);
      expect(Number(stored.rows[0]?.revision)).toBe(built!.snapshot.version);
    } finally {
      delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    }
  });

  it('a stored snapshot the log no longer covers, or from a later revision, is never served: rebuilt from the tables', async () => {
    await fullSync();
    await flushMaterialised(t.cp.db, org);
    // Pruned past the stored revision: the log cannot bring it forward.
    const pruned = await t.sdk.configs.create({ name: 'mat-pruned', config: { provider: 'openai' } });
    await mutateOrg(t.cp.db, org, (tx) => pruneChangeLog(tx, org, { maxRevisions: 0 }));
    forgetMaterialised(t.cp.db);
    let built = await materialise(t.cp.db, org);
    expect(built?.source).toBe('rebuilt');
    expect(built!.snapshot.configs.map((c) => c.slug)).toContain(pruned.slug);
    expect(normalised(built!.snapshot)).toEqual(normalised(await fromTables(t.cp.db, org)));

    // A row claiming a revision the org has not reached (a restored database): ignored, then replaced.
    await flushMaterialised(t.cp.db, org);
    const current = (await orgRevision(t.cp.db, org))!;
    await t.cp.db.query('UPDATE sync_snapshots SET revision = $2 WHERE organisation_id = $1', [org, current + 5]);
    forgetMaterialised(t.cp.db);
    built = await materialise(t.cp.db, org);
    expect(built?.source).toBe('rebuilt');
    expect(built!.snapshot.version).toBe(current);
    await flushMaterialised(t.cp.db, org);
    const stored = await t.cp.db.query<{ revision: string | number }>('SELECT revision FROM sync_snapshots WHERE organisation_id = $1', [org]);
    expect(Number(stored.rows[0]!.revision)).toBe(current);

    // A row another control-plane build wrote (other entry mappers, other shipped prices): rebuilt, then replaced.
    await t.cp.db.query(`UPDATE sync_snapshots SET built_by = 'an-older-build' WHERE organisation_id = $1`, [org]);
    forgetMaterialised(t.cp.db);
    built = await materialise(t.cp.db, org);
    expect(built?.source).toBe('rebuilt');
    await flushMaterialised(t.cp.db, org);
    const rewritten = await t.cp.db.query<{ built_by: string }>('SELECT built_by FROM sync_snapshots WHERE organisation_id = $1', [org]);
    expect(rewritten.rows[0]!.built_by).toBe(snapshotBuild());

    // A change the log records only as opaque (no tracked table): a full rebuild, not a roll-forward.
    await mutateOrg(t.cp.db, org, async () => undefined);
    built = await materialise(t.cp.db, org);
    expect(built?.source).toBe('rebuilt');
    expect(built!.snapshot.version).toBe(current + 1);
  });

  it('after a deploy, stored snapshots of the previous build are rebuilt up front, not by the first gateway', async () => {
    await fullSync();
    await flushMaterialised(t.cp.db, org);
    await mutateOrg(t.cp.db, org, async () => undefined); // a change the previous build never saw
    await t.cp.db.query(`UPDATE sync_snapshots SET built_by = 'the-previous-build' WHERE organisation_id = $1`, [org]);
    // A new control-plane process (nothing in memory), as after a deploy.
    forgetMaterialised(t.cp.db);
    const progress: string[] = [];
    const result = await refreshStaleSnapshots(t.cp.db, { onProgress: (_done, _total, id) => progress.push(id) });
    expect(result).toEqual({ refreshed: [org], remaining: 0 });
    expect(progress).toEqual([org]);
    const { rows } = await t.cp.db.query<{ built_by: string; revision: string | number }>('SELECT built_by, revision FROM sync_snapshots WHERE organisation_id = $1', [org]);
    expect(rows[0]!.built_by).toBe(snapshotBuild());
    expect(Number(rows[0]!.revision)).toBe(await orgRevision(t.cp.db, org));
    // The next process serves the stored row as is (no rebuild), and it equals the tables.
    forgetMaterialised(t.cp.db);
    const built = await materialise(t.cp.db, org);
    expect(built!.source).toBe('stored');
    expect(normalised(built!.snapshot)).toEqual(normalised(await fromTables(t.cp.db, org)));
    // Nothing stale is left: a second pass does nothing.
    expect(await refreshStaleSnapshots(t.cp.db)).toEqual({ refreshed: [], remaining: 0 });
  });
});

async function currentDatabase(db: SqlDatabase): Promise<string> {
  const { rows } = await db.query<{ name: string }>('SELECT current_database() AS name');
  return rows[0]!.name;
}
