import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as timestream from 'aws-cdk-lib/aws-timestream';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/** DynamoDB data-plane registry (heartbeats, versions): on-demand, PITR, TTL `expires_at`, KMS, deletion protection. */
export function createRegistryTable(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy): dynamodb.Table {
  return new dynamodb.Table(scope, 'Registry', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: 'expires_at',
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    deletionProtection: true,
    removalPolicy,
  });
}

/**
 * Timestream for LiveAnalytics metrics store (opt-in). AWS closed Timestream for LiveAnalytics to new
 * customers on 2025-06-20; only accounts that already use it can create these resources.
 */
export class TimestreamMetricsStore extends Construct {
  readonly databaseName: string;
  readonly tableName: string;
  readonly tableArn: string;

  constructor(scope: Construct, id: string, key: kms.IKey, removalPolicy: RemovalPolicy) {
    super(scope, id);
    const database = new timestream.CfnDatabase(this, 'Database', { kmsKeyId: key.keyArn });
    const table = new timestream.CfnTable(this, 'Table', {
      databaseName: database.ref,
      retentionProperties: { MemoryStoreRetentionPeriodInHours: '24', MagneticStoreRetentionPeriodInDays: '400' },
    });
    database.applyRemovalPolicy(removalPolicy);
    table.applyRemovalPolicy(removalPolicy);
    this.databaseName = database.ref;
    this.tableName = table.attrName;
    this.tableArn = table.attrArn;
    acknowledge(this, 'Timestream for LiveAnalytics is an explicit opt-in (metricsStore: \'timestream\') for accounts that already use it; the default metrics store is Aurora (docs/deploy-aws.md).',
      'CloudFormation-Validate::W3697');
  }

  /** Ingest: write records to this table (and discover the write endpoint, which has no resource-level permission). */
  grantWrite(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['timestream:WriteRecords', 'timestream:DescribeTable'],
      resources: [this.tableArn],
    }));
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['timestream:DescribeEndpoints'],
      resources: ['*'],
    }));
  }

  /** Analytics: query this table (Select, DESCRIBE) and discover the query endpoint. */
  grantRead(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['timestream:Select', 'timestream:DescribeTable'],
      resources: [this.tableArn],
    }));
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['timestream:DescribeEndpoints'],
      resources: ['*'],
    }));
  }
}

/** Where control-plane-mode log records live in the log store (`TOLLGATE_CP_LOG_PREFIX`). */
export const LOG_STORE_PREFIX = 'logs/';

/**
 * Least-privilege object access to the control-plane log store, under `LOG_STORE_PREFIX` only:
 * `write` (ingest) puts records, `read` (log search) gets them. The bucket key is granted the matching
 * use only (GenerateDataKey to put, Decrypt to get).
 */
export function grantLogStore(bucket: s3.IBucket, grantee: iam.IGrantable, access: 'read' | 'write'): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: [access === 'write' ? 's3:PutObject' : 's3:GetObject'],
    resources: [bucket.arnForObjects(`${LOG_STORE_PREFIX}*`)],
  }));
  bucket.encryptionKey?.grant(grantee, access === 'write' ? 'kms:GenerateDataKey' : 'kms:Decrypt');
}

export const LOG_STORE_DEFAULT_RETENTION = Duration.days(90);
