import type { SqlQueryable } from '../core/db.js';
import type { Keyring } from '../core/keyring.js';
import type { ControlPlaneContext } from './context.js';

/**
 * BYOK: an organisation may name its own KMS key (`organisations.kms_key_arn`, set through the
 * platform API). New secrets of that org are then sealed with a keyring on the customer's key. The
 * customer's key policy grants the control plane's role only `kms:GenerateDataKey` (and `kms:Encrypt`),
 * and the gateway's task role `kms:Decrypt`, so the control plane can seal but never open them
 * (docs/control-plane.md has the key policy). Secrets sealed before the key was named stay readable
 * by the gateway with the platform key until they are rotated.
 */
export type KeyringForKey = (kmsKeyArn: string) => Keyring;

let factory: KeyringForKey | undefined;

/** Overrides how a customer key becomes a keyring (tests, local mode); default: a KMS keyring on it. */
export function setByokKeyringFactory(f: KeyringForKey | undefined): void {
  factory = f;
}

async function defaultFactory(arn: string): Promise<Keyring> {
  const { kmsKeyring } = await import('../adapters/kms-keyring.js');
  return kmsKeyring(arn);
}

/** The keyring that seals this org's new secrets: the customer's key when named, else the platform keyring. */
export async function sealingKeyring(ctx: ControlPlaneContext & { keyringForKey?: KeyringForKey }, db: SqlQueryable, organisationId: string): Promise<Keyring> {
  const { rows } = await db.query<{ kms_key_arn: string | null }>('SELECT kms_key_arn FROM organisations WHERE id = $1', [organisationId]);
  const arn = rows[0]?.kms_key_arn;
  if (!arn) return ctx.keyring;
  return (ctx.keyringForKey ?? factory)?.(arn) ?? defaultFactory(arn);
}
