import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Stack } from 'aws-cdk-lib';

/**
 * Least-privilege access to the log bucket: PutObject/GetObject on its objects (under `prefix`) only, and the bucket's
 * KMS key usable only through S3 (kms:ViaService).
 */
export function grantLogBucketReadWrite(bucket: s3.IBucket, grantee: iam.IGrantable, prefix = ''): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [bucket.arnForObjects(`${prefix}*`)] }),
  );
  if (bucket.encryptionKey) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [bucket.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(bucket).region}.amazonaws.com` } },
      }),
    );
  }
}
