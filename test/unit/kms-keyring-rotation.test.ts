import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kmsKeyring, previousKmsKeyArns } from '../../runtime/adapters/kms-keyring.js';
import { virtualKeyContext } from '../../runtime/core/keyring.js';

/** A fake KMS: data keys "wrapped" by handle, remembered with the key that wrapped them; Decrypt checks the KeyId. */
function fakeKms() {
  const wrapped = new Map<string, { keyId: string; plaintext: Uint8Array }>();
  const calls: string[] = [];
  const wrap = (keyId: string, plaintext: Uint8Array) => {
    const blob = new Uint8Array(randomBytes(24));
    // Copies: the Encryption SDK zeroes the data keys it was handed once it is done with them.
    wrapped.set(Buffer.from(blob).toString('hex'), { keyId, plaintext: Uint8Array.from(plaintext) });
    return blob;
  };
  const client = {
    async generateDataKey({ KeyId, NumberOfBytes }: { KeyId: string; NumberOfBytes: number }) {
      calls.push(`GenerateDataKey ${KeyId}`);
      const plaintext = new Uint8Array(randomBytes(NumberOfBytes));
      const CiphertextBlob = wrap(KeyId, plaintext);
      return { KeyId, Plaintext: plaintext, CiphertextBlob };
    },
    async encrypt({ KeyId, Plaintext }: { KeyId: string; Plaintext: Uint8Array }) {
      calls.push(`Encrypt ${KeyId}`);
      return { KeyId, CiphertextBlob: wrap(KeyId, Plaintext) };
    },
    async decrypt({ KeyId, CiphertextBlob }: { KeyId: string; CiphertextBlob: Uint8Array }) {
      calls.push(`Decrypt ${KeyId}`);
      const found = wrapped.get(Buffer.from(CiphertextBlob).toString('hex'));
      if (!found || found.keyId !== KeyId) throw new Error('IncorrectKeyException');
      return { KeyId, Plaintext: Uint8Array.from(found.plaintext) };
    },
  };
  return { provider: () => client, calls };
}

describe('KMS keyring moving to another key (TOLLGATE_KMS_PREVIOUS_KEY_ARNS)', () => {
  const oldArn = 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000a';
  const newArn = 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-00000000000b';
  const ctx = virtualKeyContext('org-1', 'ws-1', 'vk-1');

  it('seals with the new key only and opens messages of the old one', async () => {
    const kms = fakeKms();
    const sealedOld = await kmsKeyring(oldArn, [], kms.provider).encrypt('sk-old', ctx);
    const rotated = kmsKeyring(newArn, [oldArn], kms.provider);
    expect((await rotated.decrypt(sealedOld, ctx)).toString()).toBe('sk-old');
    kms.calls.length = 0;
    const sealedNew = await rotated.encrypt('sk-new', ctx);
    expect(kms.calls).toEqual([`GenerateDataKey ${newArn}`]);
    expect((await rotated.decrypt(sealedNew, ctx)).toString()).toBe('sk-new');
    // Without the previous ARN the old message no longer opens; the new-key-only keyring opens the new one.
    await expect(kmsKeyring(newArn, [], kms.provider).decrypt(sealedOld, ctx)).rejects.toThrow();
    expect((await kmsKeyring(newArn, [], kms.provider).decrypt(sealedNew, ctx)).toString()).toBe('sk-new');
  });

  it('reads the previous ARNs from the environment', () => {
    expect(previousKmsKeyArns({ TOLLGATE_KMS_PREVIOUS_KEY_ARNS: ` ${oldArn}, ,${newArn}` })).toEqual([oldArn, newArn]);
    expect(previousKmsKeyArns({})).toEqual([]);
  });
});
