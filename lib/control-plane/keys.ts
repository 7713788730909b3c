import type { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

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
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
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
