import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';
import type { ControlPlaneDatabaseProps } from './props.js';

export interface ControlPlaneDatabaseOptions extends ControlPlaneDatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly key: kms.IKey;
}

/**
 * Aurora PostgreSQL Serverless v2: KMS-encrypted, deletion protection, backups, IAM auth enabled,
 * master secret rotated by Secrets Manager, RDS Proxy (TLS required) in front by default.
 */
export class ControlPlaneDatabase extends Construct {
  readonly cluster: rds.DatabaseCluster;
  readonly secret: secretsmanager.ISecret;
  readonly proxy?: rds.DatabaseProxy;
  /** Host the Lambdas connect to (the proxy endpoint, or the cluster writer endpoint). */
  readonly host: string;
  readonly port: number;
  private readonly endpoint: ec2.IConnectable;

  constructor(scope: Construct, id: string, o: ControlPlaneDatabaseOptions) {
    super(scope, id);
    const subnets = { subnets: o.vpc.privateSubnets };
    const readers = o.readers ?? 1;
    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_6 }),
      writer: rds.ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
      readers: Array.from({ length: readers }, (_, i) =>
        rds.ClusterInstance.serverlessV2(`Reader${i + 1}`, { scaleWithWriter: i === 0, autoMinorVersionUpgrade: true })),
      serverlessV2MinCapacity: o.minCapacity ?? 0.5,
      serverlessV2MaxCapacity: o.maxCapacity ?? 8,
      vpc: o.vpc,
      vpcSubnets: subnets,
      credentials: rds.Credentials.fromGeneratedSecret('tollgate', { encryptionKey: o.key, excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\' }),
      defaultDatabaseName: 'tollgate',
      storageEncrypted: true,
      storageEncryptionKey: o.key,
      iamAuthentication: true,
      deletionProtection: o.deletionProtection ?? true,
      backup: { retention: o.backupRetention ?? Duration.days(14), preferredWindow: '03:00-04:00' },
      cloudwatchLogsExports: ['postgresql'],
      copyTagsToSnapshot: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    this.secret = this.cluster.secret!;
    this.port = 5432;
    acknowledge(this.cluster, 'Port 5432 is kept so standard Postgres clients and RDS Proxy work unchanged; the cluster sits in private subnets reachable only from the control-plane security groups.', 'AwsSolutions-RDS11');

    const rotation = this.cluster.addRotationSingleUser({ automaticallyAfter: o.rotationInterval ?? Duration.days(30), excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\' });
    void rotation;

    if (o.proxy ?? true) {
      this.proxy = this.cluster.addProxy('Proxy', {
        secrets: [this.secret],
        vpc: o.vpc,
        vpcSubnets: subnets,
        requireTLS: true,
        iamAuth: false,
        idleClientTimeout: Duration.minutes(30),
      });
      this.cluster.connections.allowDefaultPortFrom(this.proxy, 'RDS Proxy to Aurora');
      this.host = this.proxy.endpoint;
      this.endpoint = this.proxy;
    } else {
      this.host = this.cluster.clusterEndpoint.hostname;
      this.endpoint = this.cluster;
    }
  }

  /** Network access and secret read for a client (Lambda). */
  grantConnect(client: ec2.IConnectable & iam.IGrantable): void {
    this.endpoint.connections.allowFrom(client, ec2.Port.tcp(this.port), 'Control-plane Lambda to Postgres');
    this.secret.grantRead(client);
  }
}
