import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateLocalKey, localKeyring, readLocalKeyFile, retireLocalKey, rotateLocalKey } from '../../runtime/adapters/local-keyring.js';
import type { EncryptionContext, Keyring } from '../../runtime/core/keyring.js';
import { silentLogger } from '../../runtime/core/logger.js';
import { syncSnapshotSchema, type SyncSnapshot } from '../../runtime/core/sync-contract.js';
import { buildGatewayState } from '../../runtime/gateway/sync/gateway-state.js';
import { setByokKeyringFactory } from '../../runtime/control-plane/byok.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { tempDir } from '../support/cp-harness.js';

/**
 * Key rotation without downtime, local key file edition (the KMS story is KMS's own rotation):
 * 1. stage a new key in the file and give the file to the gateways (they open either key);
 * 2. make it current on the control plane (new secrets sealed with it);
 * 3. re-wrap every secret of the org (POST /v1/platform/organisations/{id}/virtual-keys/rewrap);
 * 4. retire the old key.
 * The control plane's keyring is a delegate so the test can "restart" it on the new file.
 */
describe.each(engines)('key rotation re-wraps virtual-key secrets (%s)', (engine) => {
  const platformKey = 'tgpa-rotation-test-key-0000000000';
  const N = 25;
  let t: EngineControlPlane;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let keyFile: string;
  let active: Keyring;
  let onSeal: ((context: EncryptionContext) => Promise<void>) | undefined;
  const cpKeyring: Keyring = {
    async encrypt(p, c) {
      if (onSeal) await onSeal(c);
      return active.encrypt(p, c);
    },
    decrypt: (c, x) => active.decrypt(c, x),
  };
  const platform = (path: string, json: unknown = {}) =>
    t.api(path, { method: 'POST', json, headers: { authorization: `Bearer ${platformKey}`, 'x-portkey-api-key': '' } });
  const snapshot = async (): Promise<SyncSnapshot> =>
    syncSnapshotSchema.parse(await (await fetch(`${t.cp.url}/v1/sync/snapshot`, { headers: { authorization: `Bearer ${t.cp.dataPlaneToken}` } })).json());
  /** What a gateway holding `keyring` makes of the snapshot: slug -> plaintext secret (keys it cannot open are left out). */
  const gatewaySecrets = async (snap: SyncSnapshot, keyring: Keyring) => {
    const { state } = await buildGatewayState(snap, keyring, silentLogger);
    const out = new Map<string, string>();
    for (const [slug, vk] of state.virtualKeys) {
      // The gateway opens secrets on first use (sealed-secret.ts); open each one as a request would.
      const secret = (vk as { secret?: { open(): string | Promise<string> } }).secret;
      try {
        out.set(slug, secret ? await secret.open() : vk.apiKey);
      } catch {
        // undecryptable with this keyring
      }
    }
    return out;
  };

  beforeAll(async () => {
    process.env.TOLLGATE_PLATFORM_ADMIN_KEY = platformKey;
    tmp = await tempDir();
    keyFile = `${tmp.dir}/keyring.json`;
    active = await localKeyring(keyFile); // creates the original one-key file
    t = await startOn(engine, { keyring: cpKeyring });
  });
  afterAll(async () => {
    delete process.env.TOLLGATE_PLATFORM_ADMIN_KEY;
    setByokKeyringFactory(undefined);
    await t?.stop();
    await tmp?.cleanup();
  });

  it('secrets stay readable by a gateway during and after the re-wrap, every ciphertext changes, a concurrent edit is kept', async () => {
    // The original single-key file format.
    const original = JSON.parse(await readFile(keyFile, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(original).sort()).toEqual(['key', 'keyName']);
    const oldKeyOnly = await localKeyring(keyFile);

    const slugs: string[] = [];
    for (let i = 0; i < N; i++) slugs.push((await t.sdk.virtualKeys.create({ name: `rot ${i}`, provider: 'openai', key: `sk-rotation-secret-${i}-000000` })).slug!);
    const secretOf = (slug: string) => `sk-rotation-secret-${slugs.indexOf(slug)}-000000`;
    const before = await snapshot();
    const oldCiphertexts = new Map(before.virtual_keys.map((v) => [v.slug, v.encrypted_key]));

    // 1. Stage the new key: the file keeps the old one, still current. The gateway loads this file.
    const newKeyName = await rotateLocalKey(keyFile, { activate: false });
    const staged = await readLocalKeyFile(keyFile);
    expect(staged?.current).toBe(original.keyName);
    expect(staged?.keys.map((k) => k.keyName)).toEqual([original.keyName, newKeyName]);
    const gateway = await localKeyring(keyFile);
    expect(await gatewaySecrets(before, gateway)).toEqual(new Map(slugs.map((s) => [s, secretOf(s)])));

    // 2. The control plane seals with the new key.
    await activateLocalKey(keyFile, newKeyName);
    active = await localKeyring(keyFile);

    // 3. Re-wrap. Halfway through, a gateway syncs, and someone rotates one secret concurrently.
    const target = before.virtual_keys[N >> 1].slug; // snapshot and re-wrap both go in id order
    let during: SyncSnapshot | undefined;
    let fired = false;
    onSeal = async (c) => {
      if (fired || c.tollgate_slug !== target) return;
      fired = true;
      during = await snapshot();
      const put = await t.api(`/v1/virtual-keys/${target}`, { method: 'PUT', json: { key: 'sk-rotation-concurrent-000000' } });
      expect(put.status).toBe(200);
    };
    const res = await platform(`/v1/platform/organisations/${t.cp.organisationId}/virtual-keys/rewrap`, { batch_size: 7 });
    onSeal = undefined;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rewrapped: number; retried: number; done: boolean; not_decryptable: unknown[]; contended: unknown[] };
    expect(body).toMatchObject({ rewrapped: N, done: true, not_decryptable: [], not_sealable: [], contended: [] });
    expect(body.retried).toBeGreaterThanOrEqual(1);

    // During: some rows old key, some new; the gateway with both keys opens all of them.
    expect(during).toBeDefined();
    const duringOld = during!.virtual_keys.filter((v) => v.encrypted_key === oldCiphertexts.get(v.slug)).length;
    expect(duringOld).toBeGreaterThan(0);
    expect(duringOld).toBeLessThan(N);
    expect(await gatewaySecrets(during!, gateway)).toEqual(new Map(slugs.map((s) => [s, secretOf(s)])));

    // After: every ciphertext changed and is under the new key; the concurrent edit survived.
    const after = await snapshot();
    expect(after.version).toBeGreaterThan(before.version);
    for (const v of after.virtual_keys) expect(v.encrypted_key).not.toBe(oldCiphertexts.get(v.slug));
    const expected = new Map(slugs.map((s) => [s, s === target ? 'sk-rotation-concurrent-000000' : secretOf(s)]));
    expect(await gatewaySecrets(after, gateway)).toEqual(expected);
    expect((await gatewaySecrets(after, oldKeyOnly)).size).toBe(0);

    // The re-wrap left the API's view (and versions) alone; only the concurrent PUT moved its row.
    // Ids are random, so the target (picked in id order) can be any slug: compare with one that is not it.
    const untouched = slugs.find((s) => s !== target)!;
    const other = (await (await t.api(`/v1/virtual-keys/${untouched}`)).json()) as { version: number };
    expect(other.version).toBe(1);
    const edited = (await (await t.api(`/v1/virtual-keys/${target}`)).json()) as { version: number };
    expect(edited.version).toBe(2);

    // 4. Retire the old key: the new-key-only file opens everything.
    await retireLocalKey(keyFile, String(original.keyName));
    expect(await gatewaySecrets(after, await localKeyring(keyFile))).toEqual(expected);
    await expect(retireLocalKey(keyFile, newKeyName)).rejects.toThrow(/current key/);

    // Re-running is harmless (and changes the ciphertexts again).
    const again = (await (await platform(`/v1/platform/organisations/${t.cp.organisationId}/virtual-keys/rewrap`)).json()) as { rewrapped: number };
    expect(again.rewrapped).toBe(N);
  });

  it('a time budget stops early and hands back a cursor to resume from', async () => {
    const path = `/v1/platform/organisations/${t.cp.organisationId}/virtual-keys/rewrap`;
    let total = 0;
    let after: string | undefined;
    for (let calls = 0; calls < 100; calls++) {
      const r = (await (await platform(path, { batch_size: 5, time_budget_ms: 100, ...(after ? { after } : {}) })).json()) as { rewrapped: number; done: boolean; next_after: string | null };
      total += r.rewrapped;
      if (r.done) break;
      after = r.next_after!;
    }
    expect(total).toBe(N);
  });

  it('needs the platform key, 404s an unknown org, 400s a bad batch size, and is audited', async () => {
    const path = `/v1/platform/organisations/${t.cp.organisationId}/virtual-keys/rewrap`;
    expect((await t.api(path, { method: 'POST', json: {} })).status).toBe(401);
    expect((await platform('/v1/platform/organisations/org-nope/virtual-keys/rewrap')).status).toBe(404);
    const bad = await platform(path, { batch_size: 0 });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/batch_size/);
    const audit = (await (await t.api('/v1/audit-logs?action=virtual_keys.rewrap')).json()) as { total: number };
    expect(audit.total).toBeGreaterThanOrEqual(1);
  });

  it('BYOK: secrets sealed with the customer key cannot be re-wrapped by the control plane and are left as they are', async () => {
    const customer = await localKeyring(`${tmp.dir}/customer.json`);
    setByokKeyringFactory(() => ({ encrypt: (p, c) => customer.encrypt(p, c), decrypt: async () => { throw new Error('AccessDeniedException: kms:Decrypt'); } }));
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const put = await t.api(`/v1/platform/organisations/${t.cp.organisationId}`, { method: 'PUT', json: { kms_key_arn: arn }, headers: { authorization: `Bearer ${platformKey}`, 'x-portkey-api-key': '' } });
    expect(put.status).toBe(200);
    const byok = (await t.sdk.virtualKeys.create({ name: 'byok rot', provider: 'openai', key: 'sk-byok-rotation-000000' })).slug!;
    const sealed = (await snapshot()).virtual_keys.find((v) => v.slug === byok)!.encrypted_key;
    const r = (await (await platform(`/v1/platform/organisations/${t.cp.organisationId}/virtual-keys/rewrap`)).json()) as { rewrapped: number; not_decryptable: { slug: string }[] };
    expect(r.not_decryptable.map((x) => x.slug)).toEqual([byok]);
    // The platform-key rows were opened with the platform key and sealed again under the customer's key.
    expect(r.rewrapped).toBe(N);
    const snap = await snapshot();
    expect(snap.virtual_keys.find((v) => v.slug === byok)!.encrypted_key).toBe(sealed);
    expect((await gatewaySecrets(snap, customer)).size).toBe(N + 1);
  });

  it('BYOK without the seal grant (the CDK platform function): platform-key rows are reported as not_sealable and left alone', async () => {
    const orgPath = `/v1/platform/organisations/${t.cp.organisationId}`;
    const put = (kms_key_arn: string | null) => t.api(orgPath, { method: 'PUT', json: { kms_key_arn }, headers: { authorization: `Bearer ${platformKey}`, 'x-portkey-api-key': '' } });
    expect((await put(null)).status).toBe(200);
    const slug = (await t.sdk.virtualKeys.create({ name: 'pre byok', provider: 'openai', key: 'sk-pre-byok-000000000' })).slug!;
    const before = (await snapshot()).virtual_keys.find((v) => v.slug === slug)!.encrypted_key;
    setByokKeyringFactory(() => ({
      encrypt: async () => { throw new Error('AccessDeniedException: kms:GenerateDataKey'); },
      decrypt: async () => { throw new Error('AccessDeniedException: kms:Decrypt'); },
    }));
    expect((await put('arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555')).status).toBe(200);
    const r = (await (await platform(`${orgPath}/virtual-keys/rewrap`)).json()) as { rewrapped: number; not_sealable: { slug: string; reason: string }[]; done: boolean };
    expect(r).toMatchObject({ rewrapped: 0, done: true });
    expect(r.not_sealable).toEqual([{ slug, reason: expect.stringMatching(/GenerateDataKey/) }]);
    const after = await snapshot();
    expect(after.virtual_keys.find((v) => v.slug === slug)!.encrypted_key).toBe(before);
    expect((await gatewaySecrets(after, active)).get(slug)).toBe('sk-pre-byok-000000000');
  });
});
