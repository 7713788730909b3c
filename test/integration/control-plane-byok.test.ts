import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localKeyring } from '../../runtime/adapters/local-keyring.js';
import { virtualKeyContext, type Keyring } from '../../runtime/core/keyring.js';
import { setByokKeyringFactory } from '../../runtime/control-plane/byok.js';
import { syncSnapshotSchema } from '../../runtime/core/sync-contract.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { tempDir } from '../support/cp-harness.js';

/**
 * BYOK modelled with two local AES keyrings: the platform key (the control plane's own) and the
 * customer's key. The KMS grant split (control plane: GenerateDataKey only; gateway: Decrypt) is a
 * wrapper that seals with the customer key but refuses to open anything.
 */
function encryptOnly(k: Keyring): Keyring {
  return {
    encrypt: (p, c) => k.encrypt(p, c),
    decrypt: async () => {
      throw new Error('AccessDeniedException: not authorized to perform kms:Decrypt');
    },
  };
}

describe.each(engines)('BYOK: the control plane seals with the customer key but cannot open (%s)', (engine) => {
  let t: EngineControlPlane;
  let customerKey: Keyring;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const arn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
  const secret = 'sk-byok-customer-secret-0123456789';

  beforeAll(async () => {
    tmp = await tempDir();
    customerKey = await localKeyring(`${tmp.dir}/customer-key.json`);
    const seen: string[] = [];
    setByokKeyringFactory((keyArn) => {
      seen.push(keyArn);
      return encryptOnly(customerKey);
    });
    t = await startOn(engine);
  });
  afterAll(async () => {
    setByokKeyringFactory(undefined);
    await t?.stop();
    await tmp?.cleanup();
  });

  it('a secret created after the org names its key: the gateway (customer key, Decrypt) reads it; the control plane cannot', async () => {
    process.env.TOLLGATE_PLATFORM_ADMIN_KEY = 'tgpa-byok-test-key-000000000000';
    const res = await t.api(`/v1/platform/organisations/${t.cp.organisationId}`, {
      method: 'PUT',
      json: { kms_key_arn: arn },
      headers: { authorization: `Bearer ${process.env.TOLLGATE_PLATFORM_ADMIN_KEY}`, 'x-portkey-api-key': '' },
    });
    expect(res.status).toBe(200);
    const vk = await t.sdk.virtualKeys.create({ name: 'byok', provider: 'openai', key: secret });
    const snap = syncSnapshotSchema.parse(await (await fetch(`${t.cp.url}/v1/sync/snapshot`, { headers: { authorization: `Bearer ${t.cp.dataPlaneToken}` } })).json());
    const sealed = snap.virtual_keys.find((v) => v.slug === vk.slug)!.encrypted_key;
    const context = virtualKeyContext(t.cp.organisationId, t.cp.defaultWorkspaceId, vk.slug!);

    // The gateway holds kms:Decrypt on the customer key.
    expect((await customerKey.decrypt(sealed, context)).toString('utf8')).toBe(secret);
    // The control plane's own keyring is the wrong key, and its grant on the customer key cannot decrypt.
    await expect(t.keyring.decrypt(sealed, context)).rejects.toThrow();
    await expect(encryptOnly(customerKey).decrypt(sealed, context)).rejects.toThrow(/kms:Decrypt/);
    // The context is still checked: the right key with another org's context fails.
    await expect(customerKey.decrypt(sealed, virtualKeyContext('org-other', t.cp.defaultWorkspaceId, vk.slug!))).rejects.toThrow(/context/);

    // A rotated secret is sealed the same way.
    await t.sdk.virtualKeys.update({ slug: vk.slug, key: 'sk-byok-rotated-000000000000' });
    const row = await t.cp.db.query<{ encrypted_key: string }>('SELECT encrypted_key FROM virtual_keys WHERE slug = $1', [vk.slug]);
    expect((await customerKey.decrypt(row.rows[0].encrypted_key, context)).toString('utf8')).toBe('sk-byok-rotated-000000000000');
    await expect(t.keyring.decrypt(row.rows[0].encrypted_key, context)).rejects.toThrow();
    delete process.env.TOLLGATE_PLATFORM_ADMIN_KEY;
  });

  it('orgs without a key of their own keep using the platform keyring', async () => {
    await t.cp.db.query('UPDATE organisations SET kms_key_arn = NULL');
    const vk = await t.sdk.virtualKeys.create({ name: 'platform', provider: 'openai', key: 'sk-platform-key-000000000' });
    const row = await t.cp.db.query<{ encrypted_key: string }>('SELECT encrypted_key FROM virtual_keys WHERE slug = $1', [vk.slug]);
    const context = virtualKeyContext(t.cp.organisationId, t.cp.defaultWorkspaceId, vk.slug!);
    expect((await t.keyring.decrypt(row.rows[0].encrypted_key, context)).toString('utf8')).toBe('sk-platform-key-000000000');
  });
});
