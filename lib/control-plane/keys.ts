import { Stack, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** What the control plane may do with a customer's key: seal (and describe), never kms:Decrypt. */
export const BYOK_ACTIONS = ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:DescribeKey'];

/**
 * Per-organisation BYOK (an org's `kms_key_arn`, set through the platform API): lets `grantee` (the
 * virtual-keys function, the only one that seals provider secrets) seal with the customers' keys.
 * GenerateDataKey/Encrypt only for virtual-key encryption contexts that name an org; DescribeKey
 * (no encryption context) separately. Never kms:Decrypt. The customer's key policy is the other half
 * (docs/deploy-aws.md): it pins the vendor to its own org id with `kms:EncryptionContext:tollgate_org`.
 */
export function grantOrganisationKeys(scope: Construct, grantee: iam.IGrantable, keyArns: string[] | undefined): void {
  const resources = keyArns?.length ? keyArns : [`arn:${Stack.of(scope).partition}:kms:*:*:key/*`];
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'TollgateOrganisationKeysSeal',
    actions: ['kms:GenerateDataKey', 'kms:Encrypt'],
    resources,
    conditions: {
      StringEquals: { 'kms:EncryptionContext:tollgate_purpose': 'virtual-key' },
      Null: { 'kms:EncryptionContext:tollgate_org': 'false' },
    },
  }));
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'TollgateOrganisationKeysDescribe',
    actions: ['kms:DescribeKey'],
    resources,
  }));
}

/** The envelope key for provider secrets: created with rotation, or the customer's own (BYOK). */
export interface EnvelopeKey {
  readonly key: kms.IKey;
  /** True when the key is the customer's: the control plane may encrypt but never decrypt. */
  readonly byok: boolean;
  /** Grant a control-plane role what it may do with the key. */
  grant(grantee: iam.IGrantable): void;
}

export function createEnvelopeKey(
  scope: Construct,
  opts: { byokKeyArn?: string; dataPlaneAccountIds?: string[]; removalPolicy: RemovalPolicy },
): EnvelopeKey {
  if (opts.byokKeyArn) {
    const key = kms.Key.fromKeyArn(scope, 'ByokKey', opts.byokKeyArn);
    return {
      key,
      byok: true,
      // BYOK: encrypt new secrets only. No kms:Decrypt, so only the customer's gateway can read them.
      grant: (g) => g.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: BYOK_ACTIONS,
        resources: [opts.byokKeyArn!],
      })),
    };
  }
  const key = new kms.Key(scope, 'EnvelopeKey', {
    description: 'Tollgate envelope key: provider secrets (virtual keys) and control-plane log records',
    enableKeyRotation: true,
    removalPolicy: opts.removalPolicy,
  });
  for (const account of opts.dataPlaneAccountIds ?? []) {
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: `TollgateDataPlane${account}Decrypt`,
      actions: ['kms:Decrypt'],
      principals: [new iam.AccountPrincipal(account)],
      resources: ['*'],
    }));
  }
  return {
    key,
    byok: false,
    grant: (g) => key.grant(g, 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'),
  };
}
