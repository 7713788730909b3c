import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/**
 * Bucket receiving S3 server access logs, ALB access logs and CloudFront standard logs.
 * SSE-S3 because ELB access logging does not support SSE-KMS; ACLs stay possible (BUCKET_OWNER_PREFERRED)
 * because CloudFront standard logging writes with ACLs.
 */
export function createAccessLogsBucket(
  scope: Construct,
  id: string,
  retention: Duration,
  removalPolicy: RemovalPolicy,
): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [{ expiration: retention, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    removalPolicy,
  });
  acknowledge(
    bucket,
    'This is the access-log bucket itself: it receives the other buckets\' and the load balancer\'s access logs; logging it into itself would loop.',
    'AwsSolutions-S1',
  );
  return bucket;
}

export interface DataBucketOptions {
  readonly key: kms.IKey;
  readonly accessLogs: s3.IBucket;
  readonly accessLogsPrefix: string;
  readonly retention: Duration;
  readonly removalPolicy: RemovalPolicy;
}

/** A private, KMS-encrypted, TLS-only bucket with access logging and an expiry lifecycle (request logs). */
export function createDataBucket(scope: Construct, id: string, o: DataBucketOptions): s3.Bucket {
  return new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: o.key,
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    serverAccessLogsBucket: o.accessLogs,
    serverAccessLogsPrefix: o.accessLogsPrefix,
    lifecycleRules: [
      {
        expiration: o.retention,
        transitions: o.retention.toDays() > 60
          ? [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(30) }]
          : undefined,
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    removalPolicy: o.removalPolicy,
  });
}

/** A customer-managed KMS key with yearly rotation. */
export function createKey(scope: Construct, id: string, description: string, removalPolicy: RemovalPolicy): kms.Key {
  return new kms.Key(scope, id, { description, enableKeyRotation: true, removalPolicy });
}
