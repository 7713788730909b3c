import { KmsKeyringNode } from '@aws-crypto/client-node';
import type { Keyring } from '../core/keyring.js';
import { envelopeKeyring } from './envelope.js';

/**
 * KMS keyring. With BYOK the control plane's role may only `kms:GenerateDataKey`/`kms:Encrypt`
 * on the customer's key: it can seal but only the gateway's task role can open them.
 *
 * Key rotation: KMS automatic rotation keeps the ARN and every old backing key, so nothing changes
 * here. Moving to a *different* key is done with `previousKeyArns` (`TOLLGATE_KMS_PREVIOUS_KEY_ARNS`,
 * comma-separated): new secrets are sealed with `keyArn` only, and messages wrapped by any listed key
 * still open, until the re-wrap has run and the old ARNs are removed.
 */
export function kmsKeyring(keyArn: string, previousKeyArns: readonly string[] = [], clientProvider?: KmsClientProvider): Keyring {
  const client = clientProvider ? { clientProvider: clientProvider as never } : {};
  const sealer = new KmsKeyringNode({ generatorKeyId: keyArn, ...client });
  const previous = previousKeyArns.filter((arn) => arn && arn !== keyArn);
  return envelopeKeyring(sealer, previous.length ? new KmsKeyringNode({ generatorKeyId: keyArn, keyIds: previous, ...client }) : sealer);
}

/** Tests only: a stand-in for the KMS client (region -> client), as the Encryption SDK's `clientProvider` takes it. */
export type KmsClientProvider = (region: string) => unknown;

/** `TOLLGATE_KMS_PREVIOUS_KEY_ARNS`, comma-separated. */
export function previousKmsKeyArns(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.TOLLGATE_KMS_PREVIOUS_KEY_ARNS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
