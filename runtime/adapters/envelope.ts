import { AlgorithmSuiteIdentifier, buildClient, CommitmentPolicy, type KeyringNode } from '@aws-crypto/client-node';
import type { EncryptionContext, Keyring } from '../core/keyring.js';

const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/**
 * Key-committing AES-256-GCM without the ECDSA signature. The default suite signs every message,
 * and verifying that signature costs milliseconds per secret: a gateway decrypting 10,000 virtual
 * keys would spend minutes at start. Signatures guard against a reader who can decrypt forging
 * messages; here every party that can decrypt (the gateway's keyring) is already trusted, and the
 * sync payload carrying the ciphertexts is itself integrity-protected.
 */
const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

/**
 * Wraps any Encryption SDK keyring (raw AES, KMS) in the Keyring port. Key rotation: `opener` may be
 * a `MultiKeyringNode` over the current and the retired wrapping keys (any of them opens a message),
 * while `sealer` is the current key alone, so new messages are wrapped by the newest key only.
 */
export function envelopeKeyring(sealer: KeyringNode, opener: KeyringNode = sealer): Keyring {
  return {
    async encrypt(plaintext, context) {
      const { result } = await encrypt(sealer, plaintext, { encryptionContext: context, suiteId: SUITE });
      return Buffer.from(result).toString('base64');
    },
    async decrypt(ciphertext, expectedContext) {
      const { plaintext, messageHeader } = await decrypt(opener, Buffer.from(ciphertext, 'base64'));
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
