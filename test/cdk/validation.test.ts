import { App, Duration, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { ControlPlane, DataPlane, type ControlPlaneProps, type DataPlaneProps } from '../../lib/index.js';
import { HANDLERS_DIR, PINNED_IMAGE } from './helpers.js';

function dataPlane(props: (stack: Stack) => Partial<DataPlaneProps>, env?: { region: string }): () => void {
  return () => {
    const stack = new Stack(new App(), 'S', { env });
    new DataPlane(stack, 'Gw', {
      controlPlaneUrl: 'https://cp.example.com',
      credentialSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'C', 'c'),
      image: PINNED_IMAGE,
      ...props(stack),
    });
  };
}

function controlPlane(props: (stack: Stack) => ControlPlaneProps, env?: { region: string }): () => void {
  return () => {
    const stack = new Stack(new App(), 'S', { env });
    new ControlPlane(stack, 'Cp', { handlersDir: HANDLERS_DIR, ...props(stack) });
  };
}

describe('DataPlane validation', () => {
  const cases: Array<[string, (stack: Stack) => Partial<DataPlaneProps>, RegExp]> = [
    ['public ALB without a certificate', () => ({ publicLoadBalancer: true }), /public load balancer needs a certificate.*allowInsecurePublicHttp/],
    ['insecure opt-in without a public ALB', () => ({ allowInsecurePublicHttp: true }), /only applies with `publicLoadBalancer: true`/],
    ['http control plane', () => ({ controlPlaneUrl: 'http://cp.example.com' }), /controlPlaneUrl must be an https:\/\/ URL/],
    ['natGateways with an existing VPC', (s) => ({ vpc: new ec2.Vpc(s, 'V'), natGateways: 2 }), /natGateways.*only applies/],
    ['min > max', () => ({ minCapacity: 5, maxCapacity: 2 }), /minCapacity \(5\) is greater than maxCapacity \(2\)/],
    ['desired outside min..max', () => ({ minCapacity: 2, maxCapacity: 4, desiredCount: 9 }), /desiredCount \(9\) must be between/],
    ['invalid Fargate cpu', () => ({ cpu: 300 }), /cpu must be one of/],
    ['memory not valid for cpu', () => ({ cpu: 256, memoryMiB: 8192 }), /memoryMiB 8192 is not valid for cpu 256/],
    ['drain too long', () => ({ drainTimeout: Duration.minutes(5) }), /drainTimeout must be 0-110 seconds/],
    ['sync too frequent', () => ({ syncInterval: Duration.seconds(1) }), /syncInterval must be at least 5 seconds/],
    ['bucket in control-plane log mode', (s) => ({ logMode: 'control-plane', logBucket: new s3.Bucket(s, 'B') }), /apply only to logMode 'customer'/],
    ['unknown log mode', () => ({ logMode: 'nowhere' as never }), /logMode must be 'customer' or 'control-plane'/],
    ['multi-AZ cache with one node', () => ({ cache: { multiAz: true, nodes: 1 } }), /cache.multiAz needs at least 2 cache.nodes/],
    ['too many cache nodes', () => ({ cache: { nodes: 7 } }), /cache.nodes must be 1-6/],
    ['bad CIDR', () => ({ allowedCidrs: ['10.0.0.0'] }), /allowedCidrs entry "10.0.0.0" is not a CIDR/],
    ['unknown cache authentication', () => ({ cache: { authentication: 'password' as never } }), /cache.authentication must be 'token' or 'iam'/],
    ['zero cache shards', () => ({ cache: { shards: 0 } }), /cache.shards must be a whole number from 1 to 500/],
    ['previous keys without a current key', () => ({ previousKmsKeyArns: ['arn:aws:kms:eu-west-1:111111111111:key/a'] }), /`previousKmsKeyArns` needs `kmsKeyArn`/],
    ['a malformed key ARN', () => ({ kmsKeyArn: 'my-key' }), /"my-key" is not a KMS key ARN/],
    ['an alias instead of a key', () => ({ kmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:alias/tollgate' }), /is not a KMS key ARN .*aliases cannot be granted/],
    ['a log prefix without trailing slash', () => ({ logPrefix: 'tollgate' }), /logPrefix must end with "\/"/],
    ['a log prefix in control-plane mode', () => ({ logMode: 'control-plane', logPrefix: 'x/' }), /`logPrefix` applies only to logMode 'customer'/],
    ['a plain-HTTP public URL for log fetches', () => ({ gatewayPublicUrl: 'http://gw.example.com' }), /gatewayPublicUrl must be an https:\/\/ URL/],
    ['a health staleness limit shorter than two syncs', () => ({ healthMaxSyncAge: Duration.seconds(45) }), /healthMaxSyncAge \(45 s\) must be at least two sync intervals \(60 s\)/],
    ['an unknown cache-down mode', () => ({ limits: { onCacheDown: 'maybe' as never } }), /limits.onCacheDown must be 'local', 'open' or 'closed'/],
    ['a local fraction above 1', () => ({ limits: { localFraction: 2 } }), /limits.localFraction must be in \(0, 1\]/],
    ['a zero telemetry batch', () => ({ telemetry: { batchSize: 0 } }), /telemetry.batchSize must be a positive whole number/],
    ['a tracing endpoint that is not a URL', () => ({ tracing: { endpoint: 'collector:4318' } }), /tracing.endpoint must be an http\(s\) URL/],
    ['a sample ratio above 1', () => ({ tracing: { endpoint: 'http://localhost:4318/v1/traces', sampleRatio: 5 } }), /tracing.sampleRatio must be from 0 to 1/],
    ['OTLP headers in plain environment', () => ({ environment: { OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=1' } }), /environment.OTEL_EXPORTER_OTLP_HEADERS would put a secret/],
    ['a secret in plain environment', () => ({ environment: { TOLLGATE_DATA_PLANE_TOKEN: 'tg_dp_x' } }), /environment.TOLLGATE_DATA_PLANE_TOKEN would put a secret in the task definition/],
  ];
  for (const [name, props, message] of cases) {
    it(`rejects ${name}`, () => expect(dataPlane(props)).toThrow(message));
  }

  it('accepts a public ALB with a certificate, or with the explicit insecure opt-in', () => {
    expect(dataPlane((s) => ({ publicLoadBalancer: true, certificate: acm.Certificate.fromCertificateArn(s, 'C2', 'arn:aws:acm:us-east-1:1:certificate/x') }))).not.toThrow();
    expect(dataPlane(() => ({ publicLoadBalancer: true, allowInsecurePublicHttp: true }))).not.toThrow();
  });
});

describe('ControlPlane validation', () => {
  const cases: Array<[string, (stack: Stack) => ControlPlaneProps, RegExp, { region: string }?]> = [
    ['a malformed BYOK ARN', () => ({ byokKeyArn: 'alias/mine' }), /byokKeyArn must be a KMS key ARN/],
    ['BYOK with data-plane accounts', () => ({ byokKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/abc', dataPlaneAccountIds: ['222222222222'] }), /dataPlaneAccountIds.*byokKeyArn/],
    ['a bad account id', () => ({ dataPlaneAccountIds: ['12'] }), /not a 12-digit AWS account id/],
    ['an unknown metrics store', () => ({ metricsStore: 'influx' as never }), /metricsStore must be 'aurora' or 'timestream'/],
    ['min ACU > max ACU', () => ({ database: { minCapacity: 4, maxCapacity: 2 } }), /minCapacity <= maxCapacity/],
    ['backup retention over 35 days', () => ({ database: { backupRetention: Duration.days(60) } }), /backupRetention must be 1-35 days/],
    ['an OIDC issuer without client id', () => ({ oidcIssuerUrl: 'https://login.example.com' }), /`oidcIssuerUrl` needs `oidcClientId`/],
    ['a non-https OIDC issuer', () => ({ oidcIssuerUrl: 'http://login', oidcClientId: 'x' }), /must be an https:\/\/ URL/],
    ['a domain without certificate', () => ({ domainName: 'tollgate.example.com' }), /`domainName` and `certificate` go together/],
    ['both webAclArn and createWebAcl', () => ({ webAclArn: 'arn:aws:wafv2:us-east-1:1:global/webacl/x/y', createWebAcl: true }), /either `webAclArn` or `createWebAcl`/],
    ['createWebAcl outside us-east-1', () => ({ createWebAcl: true }), /must be created in us-east-1 \(this stack is in eu-west-1\)/, { region: 'eu-west-1' }],
    ['a Lambda timeout above 30 s', () => ({ functions: { timeout: Duration.minutes(1) } }), /functions.timeout must be at most 30 seconds/],
    ['a Node.js runtime older than 22', () => ({ functions: { runtime: lambda.Runtime.NODEJS_20_X } }), /functions.runtime must be Node.js 22 or later.*nodejs20.x/],
    ['an OIDC client secret with Cognito', (s) => ({ oidcClientSecret: secretsmanager.Secret.fromSecretNameV2(s, 'O', 'o') }), /`oidcClientSecret` applies to an external issuer/],
    ['a missing handler entry', () => ({ handlersDir: '/nonexistent' }), /Lambda entry \/nonexistent\/workspaces.ts is missing/],
  ];
  for (const [name, props, message, env] of cases) {
    it(`rejects ${name}`, () => expect(controlPlane(props, env)).toThrow(message));
  }
});
