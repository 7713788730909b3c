import { ArnFormat, Names, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
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

/**
 * ElastiCache (Valkey/Redis) replication group with TLS in transit and KMS at rest. The gateway
 * authenticates with an AUTH token in Secrets Manager, or as an IAM-enabled ElastiCache user
 * (`authentication: 'iam'`); cluster mode shards the data (`shards`).
 */
export class GatewayCache extends Construct implements ec2.IConnectable {
  readonly connections: ec2.Connections;
  /** Secret with JSON field `token`: the AUTH token (token authentication only). */
  readonly authSecret?: secretsmanager.Secret;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** `rediss://<primary or configuration endpoint>:<port>` (no credentials). */
  readonly url: string;
  readonly port: number;
  /** Gateway environment for this cache: URL, cluster mode, IAM user (never a secret). */
  readonly environment: Record<string, string>;
  private iamUser?: elasticache.CfnUser;

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

    const authentication = props.authentication ?? 'token';
    const shards = props.shards;
    const nodes = props.nodes ?? (multiAz ? 2 : 1);
    // IAM tokens are signed for the replication group id, so it is fixed here (lower case, as in its ARN).
    const groupId = authentication === 'iam' ? cacheIdentifier(this) : undefined;
    let auth: Partial<elasticache.CfnReplicationGroupProps>;
    if (authentication === 'iam') {
      auth = { userGroupIds: [this.createIamUsers(engine, groupId!).ref] };
    } else {
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
      auth = { authToken: this.authSecret.secretValueFromJson('token').unsafeUnwrap() };
    }
    const engineVersion = props.engineVersion ?? (engine === 'valkey' ? '8.0' : '7.1');
    const topology: Partial<elasticache.CfnReplicationGroupProps> = shards === undefined
      ? { numCacheClusters: nodes }
      : {
        clusterMode: 'enabled',
        numNodeGroups: shards,
        replicasPerNodeGroup: nodes - 1,
        cacheParameterGroupName: `default.${engine}${engineVersion.split('.')[0]}.cluster.on`,
      };

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupDescription: 'Tollgate gateway cache',
      ...(groupId ? { replicationGroupId: groupId } : {}),
      engine,
      engineVersion,
      cacheNodeType: props.nodeType ?? 'cache.t4g.small',
      ...topology,
      automaticFailoverEnabled: multiAz || shards !== undefined,
      multiAzEnabled: multiAz,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [sg.securityGroupId],
      port: this.port,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: props.key.keyArn,
      ...auth,
      snapshotRetentionLimit: props.snapshotRetentionDays ?? 1,
      autoMinorVersionUpgrade: true,
    });
    if (authentication === 'iam') {
      acknowledge(this.replicationGroup, 'Authentication is ElastiCache RBAC with an IAM-enabled user (short-lived SigV4 tokens from the task role) and the default user switched off, which replaces the shared AUTH token.', 'AwsSolutions-AEC6');
    }
    if (!multiAz) {
      acknowledge(this.replicationGroup, 'Single-AZ cache chosen explicitly (cache.multiAz: false); the gateway rebuilds it from the control plane on the next sync.', 'AwsSolutions-AEC4');
    }
    this.url = shards === undefined
      ? `rediss://${this.replicationGroup.attrPrimaryEndPointAddress}:${this.replicationGroup.attrPrimaryEndPointPort}`
      : `rediss://${this.replicationGroup.attrConfigurationEndPointAddress}:${this.replicationGroup.attrConfigurationEndPointPort}`;
    this.environment = {
      TOLLGATE_REDIS_URL: this.url,
      ...(shards !== undefined ? { TOLLGATE_REDIS_CLUSTER: 'true' } : {}),
      ...(this.iamUser && groupId ? { TOLLGATE_REDIS_IAM_USER: this.iamUser.userId, TOLLGATE_REDIS_IAM_CACHE_NAME: groupId } : {}),
    };
  }

  /** Lets `grantee` connect as the cache's IAM user (`elasticache:Connect` on the group and the user). */
  grantConnect(grantee: iam.IGrantable): iam.Grant | undefined {
    if (!this.iamUser) return undefined;
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticache:Connect'],
      resourceArns: [
        Stack.of(this).formatArn({ service: 'elasticache', resource: 'replicationgroup', resourceName: this.replicationGroup.ref, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        this.iamUser.attrArn,
      ],
    });
  }

  /**
   * An IAM-enabled user for the gateway, limited to Tollgate's keys, and a user group whose
   * mandatory `default` user is switched off (so nothing can connect without IAM).
   */
  private createIamUsers(engine: string, groupId: string): elasticache.CfnUserGroup {
    const gateway = new elasticache.CfnUser(this, 'GatewayUser', {
      engine,
      // IAM-enabled users must have user id = user name, in lower case.
      userId: `${groupId}-gw`,
      userName: `${groupId}-gw`,
      authenticationMode: { Type: 'iam' },
      accessString: 'on ~tollgate:* &* +@all -@dangerous +info',
    });
    const disabledDefault = new elasticache.CfnUser(this, 'DefaultUser', {
      engine,
      userId: `${groupId}-default`,
      userName: 'default',
      authenticationMode: { Type: 'no-password-required' },
      accessString: 'off -@all',
    });
    this.iamUser = gateway;
    const group = new elasticache.CfnUserGroup(this, 'Users', {
      engine,
      userGroupId: `${groupId}-users`,
      userIds: [disabledDefault.userId, gateway.userId],
    });
    group.addDependency(gateway);
    group.addDependency(disabledDefault);
    return group;
  }
}

/** A replication group id: letters, digits and single hyphens, starting with a letter, at most 40 characters (ids of users derive from it). */
function cacheIdentifier(scope: Construct): string {
  const unique = Names.uniqueResourceName(scope, { maxLength: 28, separator: '-' }).toLowerCase();
  const clean = unique.replace(/[^a-z0-9-]/g, '').replace(/-+/g, '-').replace(/^[^a-z]+/, '').replace(/-$/, '');
  return `tg-${clean}`.slice(0, 31).replace(/-$/, '');
}
