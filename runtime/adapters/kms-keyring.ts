import { KmsKeyringNode } from '@aws-crypto/client-node';
import type { Keyring } from '../core/keyring.js';
import { envelopeKeyring } from './envelope.js';

/**
 * KMS keyring. With BYOK the control plane's role may only `kms:GenerateDataKey`/`kms:Encrypt`
 * on the customer's key: it can seal new secrets but only the gateway's task role can open them.
 */
export function kmsKeyring(keyArn: string): Keyring {
  return envelopeKeyring(new KmsKeyringNode({ generatorKeyId: keyArn }));
}
