import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { UI_FIXTURE_DIR, nagFindings, synthControlPlane, synthDataPlane } from './helpers.js';


// cdk-nag AwsSolutions: every error AND warning must be fixed or acknowledged (with a reason) next to the resource.
describe('cdk-nag AwsSolutions', () => {
  it('reports an unacknowledged finding (the check itself works)', () => {
    const { app, stack } = synthDataPlane();
    new s3.Bucket(stack, 'Plain');
    expect(nagFindings(app)).toEqual(expect.arrayContaining([expect.stringMatching(/^error AwsSolutions-S1 Dp\/Plain/)]));
  });

  it('DataPlane: defaults, public HTTPS, insecure public HTTP, control-plane logs, single-AZ cache, IAM + cluster cache, default image', () => {
    const apps = [
      synthDataPlane().app,
      synthDataPlane((s) => ({ publicLoadBalancer: true, certificate: acm.Certificate.fromCertificateArn(s, 'C', 'arn:aws:acm:eu-west-1:1:certificate/x') })).app,
      synthDataPlane({ publicLoadBalancer: true, allowInsecurePublicHttp: true }).app,
      synthDataPlane({ logMode: 'control-plane', cache: { multiAz: false } }).app,
      synthDataPlane({ cache: { authentication: 'iam', shards: 2 } }).app,
      synthDataPlane({ image: undefined, kmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/k' }, undefined, { region: 'eu-west-1', account: '111111111111' }).app,
      // Runtime settings of #5/#6: previous keys, a shared log bucket under a prefix, a webhook secret, OTLP export, an analyst reader.
      synthDataPlane((s) => ({
        kmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/k', previousKmsKeyArns: ['arn:aws:kms:eu-west-1:111111111111:key/old'],
        logBucket: s3.Bucket.fromBucketAttributes(s, 'Shared', { bucketName: 'shared-logs', encryptionKey: kms.Key.fromKeyArn(s, 'SK', 'arn:aws:kms:eu-west-1:111111111111:key/s') }),
        logPrefix: 'tollgate/', limits: { budgetAlertWebhook: secretsmanager.Secret.fromSecretNameV2(s, 'Hook', 'hook') },
        tracing: { endpoint: 'http://collector.internal:4318/v1/traces', headers: secretsmanager.Secret.fromSecretNameV2(s, 'Otlp', 'otlp') },
      }), (dp, s) => dp.grantReadLogs(new iam.Role(s, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() }))).app,
    ];
    for (const app of apps) expect(nagFindings(app)).toEqual([]);
  });

  it('ControlPlane: defaults with a UI build and BYOK + Timestream + OIDC + WAF + no proxy', () => {
    const apps = [
      synthControlPlane({ uiAssetsDir: UI_FIXTURE_DIR }).app,
      synthControlPlane({
        byokKeyArn: 'arn:aws:kms:us-east-1:222222222222:key/k', metricsStore: 'timestream',
        oidcIssuerUrl: 'https://login.example.com', oidcClientId: 'ui', createWebAcl: true,
        database: { proxy: false }, env: { region: 'us-east-1', account: '111111111111' }, uiAssetsDir: UI_FIXTURE_DIR,
      }, (deps) => ({ oidcClientSecret: secretsmanager.Secret.fromSecretNameV2(deps, 'Oidc', 'tollgate/oidc-client') })).app,
    ];
    for (const app of apps) expect(nagFindings(app)).toEqual([]);
  });
});
