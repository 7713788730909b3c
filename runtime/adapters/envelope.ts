import { buildClient, CommitmentPolicy, type KeyringNode } from '@aws-crypto/client-node';
import type { EncryptionContext, Keyring } from '../core/keyring.js';

const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/** Wraps any Encryption SDK keyring (raw AES, KMS) in the Keyring port. */
export function envelopeKeyring(keyring: KeyringNode): Keyring {
  return {
    async encrypt(plaintext, context) {
      const { result } = await encrypt(keyring, plaintext, { encryptionContext: context });
      return Buffer.from(result).toString('base64');
    },
    async decrypt(ciphertext, expectedContext) {
      const { plaintext, messageHeader } = await decrypt(keyring, Buffer.from(ciphertext, 'base64'));
      for (const [key, value] of Object.entries(expectedContext)) {
        if (messageHeader.encryptionContext[key] !== value) {
          throw new Error(`encryption context mismatch on "${key}"`);
        }
      }
      return plaintext;
    },
  };
}

export type { EncryptionContext };
