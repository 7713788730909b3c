import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import type { DataPlaneCacheProps } from './props.js';

export interface GatewayCacheProps extends DataPlaneCacheProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly key: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
}

/** ElastiCache (Valkey/Redis) replication group with TLS in transit, KMS at rest and an AUTH token in Secrets Manager. */
export class GatewayCache extends Construct implements ec2.IConnectable {
  readonly connections: ec2.Connections;
  /** Secret with JSON field `token`: the AUTH token. */
  readonly authSecret: secretsmanager.Secret;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** `rediss://<primary endpoint>:<port>` (no credentials; the token is a separate secret). */
  readonly url: string;
  readonly port: number;

  constructor(scope: Construct, id: string, props: GatewayCacheProps) {
    super(scope, id);
    const engine = props.engine ?? 'valkey';
    const multiAz = props.multiAz ?? true;
    this.port = props.port ?? 6380;

    const sg = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Tollgate gateway cache: inbound only from the gateway tasks',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [sg], defaultPort: ec2.Port.tcp(this.port) });

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'Tollgate gateway cache subnets',
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });

    this.authSecret = new secretsmanager.Secret(this, 'AuthToken', {
      description: 'Tollgate gateway cache AUTH token',
      encryptionKey: props.key,
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'token',
        excludePunctuation: true,
        passwordLength: 64,
      },
      removalPolicy: props.removalPolicy,
    });
    acknowledge(
      this.authSecret,
      'ElastiCache AUTH tokens change through ModifyReplicationGroup (AuthTokenUpdateStrategy ROTATE), which Secrets Manager rotation cannot drive; rotate by updating this secret and redeploying (docs/deploy-aws.md).',
      'AwsSolutions-SMG4',
    );

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupDescription: 'Tollgate gateway cache',
      engine,
      engineVersion: props.engineVersion ?? (engine === 'valkey' ? '8.0' : '7.1'),
      cacheNodeType: props.nodeType ?? 'cache.t4g.small',
      numCacheClusters: props.nodes ?? (multiAz ? 2 : 1),
      automaticFailoverEnabled: multiAz,
      multiAzEnabled: multiAz,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [sg.securityGroupId],
      port: this.port,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: props.key.keyArn,
      authToken: this.authSecret.secretValueFromJson('token').unsafeUnwrap(),
      snapshotRetentionLimit: props.snapshotRetentionDays ?? 1,
      autoMinorVersionUpgrade: true,
    });
    if (!multiAz) {
      acknowledge(this.replicationGroup, 'Single-AZ cache chosen explicitly (cache.multiAz: false); the gateway rebuilds it from the control plane on the next sync.', 'AwsSolutions-AEC4');
    }
    this.url = `rediss://${this.replicationGroup.attrPrimaryEndPointAddress}:${this.replicationGroup.attrPrimaryEndPointPort}`;
  }
}
