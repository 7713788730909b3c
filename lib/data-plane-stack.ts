import { Stack, type StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { DataPlane } from './data-plane.js';
import type { DataPlaneProps } from './data-plane/props.js';

export interface DataPlaneStackProps extends StackProps, Omit<DataPlaneProps, 'credentialSecret'> {
  /**
   * The data-plane credential secret.
   * @default - the existing secret named `credentialSecretName`
   */
  readonly credentialSecret?: secretsmanager.ISecret;
  /**
   * Name of an existing Secrets Manager secret holding the data-plane credential (used when `credentialSecret` is unset).
   * @default 'tollgate/data-plane-credential'
   */
  readonly credentialSecretName?: string;
}

/** A stack holding one `DataPlane` (the customer's deployment unit). */
export class DataPlaneStack extends Stack {
  readonly dataPlane: DataPlane;

  constructor(scope: Construct, id: string, props: DataPlaneStackProps) {
    super(scope, id, props);
    const { credentialSecret, credentialSecretName, ...rest } = props;
    this.dataPlane = new DataPlane(this, 'DataPlane', {
      ...rest,
      credentialSecret: credentialSecret
        ?? secretsmanager.Secret.fromSecretNameV2(this, 'Credential', credentialSecretName ?? 'tollgate/data-plane-credential'),
    });
  }
}
