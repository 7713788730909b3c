import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UI_ASSETS_DIR } from '../../lib/paths.js';
import { controlPlaneHandlers, controlPlaneRoutes } from '../../runtime/control-plane/routes.js';
import { join } from 'node:path';
import { UI_FIXTURE_DIR, synthControlPlane } from './helpers.js';

const BYOK = 'arn:aws:kms:eu-west-1:222222222222:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

// Each configuration is synthesized once; the defaults also bundle the real handlers with local esbuild.
const defaults = synthControlPlane({}, undefined, { bundle: true });
const custom = synthControlPlane({
  byokKeyArn: BYOK,
  metricsStore: 'timestream',
  oidcIssuerUrl: 'https://login.example.com',
  oidcClientId: 'tollgate-ui',
  logStore: false,
  runMigrations: false,
  database: { proxy: false, readers: 0, minCapacity: 0, maxCapacity: 16 },
  functions: { memorySize: 512 },
  env: { region: 'us-east-1', account: '111111111111' },
  createWebAcl: true,
});

function functionsEnv(t: Template): Array<Record<string, unknown>> {
  return Object.values(t.findResources('AWS::Lambda::Function'))
    .map((f: any) => f.Properties.Environment?.Variables)
    .filter((v): v is Record<string, unknown> => !!v && 'TOLLGATE_DB_SECRET_ARN' in v);
}

function policyStatements(t: Template): any[] {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

/** The logical id and properties of one handler's function. */
function handlerFunction(t: Template, name: string): { id: string; props: any } {
  const found = Object.entries(t.findResources('AWS::Lambda::Function', { Properties: { Description: `Tollgate control plane: ${name}` } }));
  expect(found, name).toHaveLength(1);
  return { id: found[0]![0], props: (found[0]![1] as any).Properties };
}

function handlerEnv(t: Template, name: string): Record<string, unknown> {
  return handlerFunction(t, name).props.Environment.Variables;
}

/** The statements of the policies attached to one handler's role. */
function handlerStatements(t: Template, name: string): any[] {
  const role = handlerFunction(t, name).props.Role['Fn::GetAtt'][0];
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === role))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (statements: any[]): string[] => statements.flatMap((s) => [s.Action].flat());
const apiHandlers = controlPlaneHandlers as readonly string[];

describe('ControlPlane defaults', () => {
  const t = defaults.template;

  it('creates one ARM64, Node 24, JSON-logging, traced NodejsFunction per handler, plus migrate', () => {
    const fns = functionsEnv(t);
    expect(fns).toHaveLength(controlPlaneHandlers.length + 1);
    t.allResourcesProperties('AWS::Lambda::Function', Match.anyValue());
    for (const name of controlPlaneHandlers) {
      t.hasResourceProperties('AWS::Lambda::Function', {
        Description: `Tollgate control plane: ${name}`,
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 1024,
        Timeout: 29,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' }),
        VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      });
    }
  });

  it('bundles each handler with local esbuild into one ESM file with the require banner', () => {
    const assembly = defaults.app.synth();
    const manifest = JSON.parse(readFileSync(join(assembly.directory, 'Cp.assets.json'), 'utf8'));
    const bundles = (Object.values(manifest.files) as Array<{ source: { path: string } }>)
      .map((f) => join(assembly.directory, f.source.path, 'index.mjs'))
      .filter((p) => existsSync(p));
    expect(bundles).toHaveLength(controlPlaneHandlers.length + 1);
    for (const b of bundles) {
      const code = readFileSync(b, 'utf8');
      expect(code.startsWith('import { createRequire as __tollgateCreateRequire }')).toBe(true);
      expect(code).toMatch(/export\s*\{[^}]*handler/);
    }
  });

  it('routes every entry of controlPlaneRoutes through the HTTP API, with throttling and access logs', () => {
    t.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    t.resourceCountIs('AWS::ApiGatewayV2::Route', controlPlaneRoutes.length);
    for (const r of controlPlaneRoutes) t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: r.routeKey });
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default', AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('passes the runtime settings every handler needs', () => {
    for (const env of functionsEnv(t)) {
      expect(env).toMatchObject({ NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' });
      for (const k of ['TOLLGATE_DB_SECRET_ARN', 'TOLLGATE_DB_HOST', 'TOLLGATE_KMS_KEY_ARN']) expect(env[k]).toBeDefined();
      // Names the runtime never reads are gone.
      for (const k of ['TOLLGATE_LOG_STORE', 'TOLLGATE_LOG_BUCKET']) expect(env[k]).toBeUndefined();
    }
    const apiEnvs = functionsEnv(t).filter((e) => e.TOLLGATE_SKIP_MIGRATIONS === '1');
    expect(apiEnvs).toHaveLength(controlPlaneHandlers.length);
    for (const env of apiEnvs) {
      expect(env.TOLLGATE_SESSION_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/SessionSecret/) });
      expect(env.TOLLGATE_SESSION_SECRET).toBeUndefined();
      expect(env.TOLLGATE_PLATFORM_ADMIN_KEY).toBeUndefined();
    }
  });

  it('session secret: every API handler reads it by ARN and may read that secret', () => {
    for (const name of apiHandlers) {
      expect(handlerEnv(t, name).TOLLGATE_SESSION_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/SessionSecret/) });
      expect(handlerStatements(t, name)).toContainEqual(expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { Ref: expect.stringMatching(/SessionSecret/) },
      }));
    }
  });

  it('platform admin key: the platform handler only reads it by ARN', () => {
    const adminGrant = (name: string) => handlerStatements(t, name).filter((s) => JSON.stringify(s.Resource).includes('PlatformAdminKey'));
    expect(handlerEnv(t, 'platform').TOLLGATE_PLATFORM_ADMIN_KEY_ARN).toEqual({ Ref: expect.stringMatching(/PlatformAdminKey/) });
    expect(adminGrant('platform')).toEqual([expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] })]);
    for (const name of apiHandlers.filter((h) => h !== 'platform')) {
      expect(handlerEnv(t, name).TOLLGATE_PLATFORM_ADMIN_KEY_ARN, name).toBeUndefined();
      expect(adminGrant(name), name).toEqual([]);
    }
  });

  it('registry: sync (heartbeats) may write it, data-planes may read it, no other handler sees it', () => {
    for (const name of ['sync', 'data-planes']) expect(handlerEnv(t, name).TOLLGATE_REGISTRY_TABLE).toEqual({ Ref: expect.stringMatching(/Registry/) });
    const onTable = (name: string) => actionsOf(handlerStatements(t, name).filter((s) => JSON.stringify(s.Resource).includes('Registry')));
    // Exactly what runtime/adapters/dynamodb-registry.ts calls: record() updates, list() queries.
    expect(onTable('sync')).toEqual(['dynamodb:UpdateItem']);
    expect(onTable('data-planes')).toEqual(['dynamodb:Query']);
    const onDataKey = (name: string) => actionsOf(handlerStatements(t, name).filter((s) => JSON.stringify(s.Resource).includes('DataKey')));
    expect(onDataKey('sync')).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey']);
    expect(onDataKey('data-planes')).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
    for (const name of apiHandlers.filter((h) => h !== 'sync' && h !== 'data-planes')) {
      expect(handlerEnv(t, name).TOLLGATE_REGISTRY_TABLE, name).toBeUndefined();
      expect(onTable(name), name).toEqual([]);
    }
  });

  it('sync runs at least 29 s for the /v1/sync/wait long poll, which is capped at 25 s', () => {
    expect(handlerFunction(t, 'sync').props.Timeout).toBeGreaterThanOrEqual(29);
    expect(handlerEnv(t, 'sync').TOLLGATE_SYNC_WAIT_SECONDS).toBe('25');
  });

  it('log store: ingest puts and logs gets objects under logs/ only (TOLLGATE_CP_LOG_BUCKET/PREFIX)', () => {
    for (const name of ['ingest', 'logs']) {
      expect(handlerEnv(t, name)).toMatchObject({ TOLLGATE_CP_LOG_BUCKET: { Ref: expect.stringMatching(/LogStore/) }, TOLLGATE_CP_LOG_PREFIX: 'logs/' });
    }
    const onBucket = (name: string) => handlerStatements(t, name).filter((s) => JSON.stringify(s.Resource).includes('LogStore'));
    const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/LogStore/), 'Arn'] }, '/logs/*']] };
    expect(onBucket('ingest')).toEqual([expect.objectContaining({ Action: 's3:PutObject', Resource: objects })]);
    expect(onBucket('logs')).toEqual([expect.objectContaining({ Action: 's3:GetObject', Resource: objects })]);
    for (const name of apiHandlers.filter((h) => h !== 'ingest' && h !== 'logs')) {
      expect(handlerEnv(t, name).TOLLGATE_CP_LOG_BUCKET, name).toBeUndefined();
      expect(onBucket(name), name).toEqual([]);
    }
  });

  it('metrics: ingest runs with the Postgres store only (TOLLGATE_METRICS_STORE=postgres), no Timestream grant', () => {
    expect(handlerEnv(t, 'ingest').TOLLGATE_METRICS_STORE).toBe('postgres');
    expect(actionsOf(policyStatements(t)).filter((a) => a.startsWith('timestream:'))).toEqual([]);
    for (const env of functionsEnv(t)) expect(env.TOLLGATE_TIMESTREAM_TABLE).toBeUndefined();
  });

  it('OIDC: the auth handler gets the Cognito issuer, client, redirect URI and post-login URL', () => {
    const env = handlerEnv(t, 'auth');
    expect(JSON.stringify(env.TOLLGATE_OIDC_ISSUER)).toMatch(/cognito-idp\..*UserPool/);
    expect(env.TOLLGATE_OIDC_CLIENT_ID).toEqual({ Ref: expect.stringMatching(/UserPoolUiClient/) });
    const url = (suffix: string) => ({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [expect.stringMatching(/UiDistribution/), 'DomainName'] }, suffix]] });
    expect(env.TOLLGATE_OIDC_REDIRECT_URI).toEqual(url('/v1/auth/oidc/callback'));
    expect(env.TOLLGATE_OIDC_POST_LOGIN_URL).toEqual(url('/'));
    for (const name of apiHandlers.filter((h) => h !== 'auth')) expect(handlerEnv(t, name).TOLLGATE_OIDC_ISSUER, name).toBeUndefined();
    // Cognito sends the browser back to that redirect URI, and has a domain (the authorization endpoint).
    const client = Object.values(t.findResources('AWS::Cognito::UserPoolClient'))[0] as any;
    expect(client.Properties).toMatchObject({ CallbackURLs: [url('/v1/auth/oidc/callback')], AllowedOAuthFlows: ['code'] });
    t.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: Match.stringLikeRegexp('^tollgate-[a-z0-9-]+$') });
  });

  it('per-org BYOK: virtual-keys may seal with customer keys (GenerateDataKey, Encrypt, DescribeKey), never decrypt', () => {
    const onCustomerKeys = (name: string) => handlerStatements(t, name).filter((s) => JSON.stringify(s.Resource).includes(':kms:*:*:key/*'));
    const seal = onCustomerKeys('virtual-keys');
    expect(seal).toEqual([
      expect.objectContaining({
        Action: ['kms:GenerateDataKey', 'kms:Encrypt'],
        Condition: { StringEquals: { 'kms:EncryptionContext:tollgate_purpose': 'virtual-key' }, Null: { 'kms:EncryptionContext:tollgate_org': 'false' } },
      }),
      expect.objectContaining({ Action: 'kms:DescribeKey' }),
    ]);
    expect(JSON.stringify(seal)).not.toContain('kms:Decrypt');
    for (const name of apiHandlers.filter((h) => h !== 'virtual-keys')) expect(onCustomerKeys(name), name).toEqual([]);
  });

  it('runs Aurora PostgreSQL Serverless v2, encrypted, protected, backed up, IAM auth, rotated, behind RDS Proxy', () => {
    t.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      KmsKeyId: Match.anyValue(),
      DeletionProtection: true,
      BackupRetentionPeriod: 14,
      EnableIAMDatabaseAuthentication: true,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 8 },
      EnableCloudwatchLogsExports: ['postgresql'],
    });
    t.resourceCountIs('AWS::RDS::DBInstance', 2);
    t.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
    t.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Snapshot' });
    t.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
    t.hasResourceProperties('AWS::RDS::DBProxy', { RequireTLS: true, EngineFamily: 'POSTGRESQL' });
  });

  it('runs migrations at deploy time through a Trigger after the database', () => {
    t.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('migrations'), Timeout: 900 });
    const triggers = t.findResources('Custom::Trigger');
    expect(Object.keys(triggers)).toHaveLength(1);
    const trigger = Object.values(triggers)[0] as any;
    expect(trigger.DependsOn.some((d: string) => d.includes('Cluster'))).toBe(true);
  });

  it('creates the DynamoDB registry with PITR, TTL expires_at, KMS and deletion protection', () => {
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
      DeletionProtectionEnabled: true,
    });
  });

  it('creates rotating KMS keys and grants the Lambdas encrypt + decrypt on its own envelope key', () => {
    t.resourceCountIs('AWS::KMS::Key', 2);
    t.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const actions = policyStatements(t).map((s) => s.Action).flat();
    expect(actions).toContain('kms:Decrypt');
    expect(actions).toContain('kms:GenerateDataKey');
  });

  it('serves the UI from a private bucket through CloudFront with OAC, security headers, logging, and /v1/* to the API', () => {
    t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https', ResponseHeadersPolicyId: Match.anyValue() }),
        CacheBehaviors: [Match.objectLike({ PathPattern: '/v1/*', ViewerProtocolPolicy: 'https-only' })],
      }),
    });
    t.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 63072000 }),
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ContentSecurityPolicy: Match.anyValue(),
        }),
      }),
    });
    const distribution = JSON.stringify(t.findResources('AWS::CloudFront::Distribution'));
    expect(distribution).not.toContain('WebACLId');
    // No runtime/ui/dist in the package (yet): bucket and distribution only, no upload.
    if (!existsSync(DEFAULT_UI_ASSETS_DIR)) t.resourceCountIs('Custom::CDKBucketDeployment', 0);
  });

  it('creates a Cognito user pool with MFA required and no self sign-up', () => {
    t.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      DeletionProtection: 'ACTIVE',
    });
    t.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
  });

  it('creates a KMS-encrypted log store and alarms; outputs the URLs', () => {
    t.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'log-store/' }) });
    t.resourceCountIs('AWS::CloudWatch::Alarm', 3 + controlPlaneHandlers.length);
    const outputs = Object.keys(t.toJSON().Outputs);
    for (const o of ['ControlPlaneUrl', 'ApiUrl', 'KeyArn', 'RegistryTableName', 'OidcIssuer', 'OidcRedirectUri']) {
      expect(outputs.some((k) => k.includes(o))).toBe(true);
    }
  });
});

describe('ControlPlane options', () => {
  const t = custom.template;

  it('BYOK: imports the key and grants GenerateDataKey/Encrypt/DescribeKey only, never Decrypt', () => {
    t.resourceCountIs('AWS::KMS::Key', 1); // the data key only
    const onByok = policyStatements(t).filter((s) => JSON.stringify(s.Resource) === JSON.stringify(BYOK));
    expect(onByok.length).toBeGreaterThan(0);
    for (const s of onByok) expect(s.Action).toEqual(['kms:GenerateDataKey', 'kms:Encrypt', 'kms:DescribeKey']);
    for (const env of functionsEnv(t)) expect(env).toMatchObject({ TOLLGATE_KMS_KEY_ARN: BYOK });
  });

  it('timestream metrics store (opt-in, KMS): ingest writes it with table-scoped grants', () => {
    t.hasResourceProperties('AWS::Timestream::Database', { KmsKeyId: Match.anyValue() });
    t.resourceCountIs('AWS::Timestream::Table', 1);
    expect(handlerEnv(t, 'ingest')).toMatchObject({
      TOLLGATE_METRICS_STORE: 'timestream',
      TOLLGATE_TIMESTREAM_DATABASE: { Ref: expect.stringMatching(/MetricsDatabase/) },
      TOLLGATE_TIMESTREAM_TABLE: { 'Fn::GetAtt': [expect.stringMatching(/MetricsTable/), 'Name'] },
    });
    const timestream = handlerStatements(t, 'ingest').filter((s) => JSON.stringify(s.Action).includes('timestream:'));
    expect(timestream).toEqual([
      expect.objectContaining({ Action: ['timestream:WriteRecords', 'timestream:DescribeTable'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/MetricsTable/), 'Arn'] } }),
      expect.objectContaining({ Action: 'timestream:DescribeEndpoints', Resource: '*' }),
    ]);
    // analytics reads it (Select, no write); nothing else touches Timestream.
    expect(handlerEnv(t, 'analytics')).toMatchObject({
      TOLLGATE_METRICS_STORE: 'timestream',
      TOLLGATE_TIMESTREAM_DATABASE: { Ref: expect.stringMatching(/MetricsDatabase/) },
      TOLLGATE_TIMESTREAM_TABLE: { 'Fn::GetAtt': [expect.stringMatching(/MetricsTable/), 'Name'] },
    });
    expect(handlerStatements(t, 'analytics').filter((s) => JSON.stringify(s.Action).includes('timestream:'))).toEqual([
      expect.objectContaining({ Action: ['timestream:Select', 'timestream:DescribeTable'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/MetricsTable/), 'Arn'] } }),
      expect.objectContaining({ Action: 'timestream:DescribeEndpoints', Resource: '*' }),
    ]);
    for (const name of apiHandlers.filter((h) => h !== 'ingest' && h !== 'analytics')) {
      expect(handlerEnv(t, name).TOLLGATE_METRICS_STORE, name).toBeUndefined();
      expect(JSON.stringify(handlerStatements(t, name)), name).not.toContain('timestream:');
    }
  });

  it('organisationKeyArns pins the per-org BYOK grant to those keys', () => {
    const keys = ['arn:aws:kms:eu-west-1:444444444444:key/11111111-2222-3333-4444-555555555555'];
    const { template } = synthControlPlane({ organisationKeyArns: keys, runMigrations: false });
    const seal = handlerStatements(template, 'virtual-keys').filter((s) => JSON.stringify(s.Resource) === JSON.stringify(keys[0]));
    expect(actionsOf(seal)).toEqual(['kms:GenerateDataKey', 'kms:Encrypt', 'kms:DescribeKey']);
    expect(JSON.stringify(handlerStatements(template, 'virtual-keys'))).not.toContain(':kms:*:*:key/*');
  });

  it('a shorter function timeout leaves sync at 29 s', () => {
    const { template } = synthControlPlane({ functions: { timeout: Duration.seconds(10) }, runMigrations: false });
    expect(handlerFunction(template, 'sync').props.Timeout).toBe(29);
    expect(handlerFunction(template, 'configs').props.Timeout).toBe(10);
  });

  it('external OIDC instead of Cognito; no log store; no proxy; no readers; no migrations; WAF on the distribution', () => {
    t.resourceCountIs('AWS::Cognito::UserPool', 0);
    t.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
    expect(handlerEnv(t, 'auth')).toMatchObject({
      TOLLGATE_OIDC_ISSUER: 'https://login.example.com', TOLLGATE_OIDC_CLIENT_ID: 'tollgate-ui',
      TOLLGATE_OIDC_REDIRECT_URI: { 'Fn::Join': ['', ['https://', expect.anything(), '/v1/auth/oidc/callback']] },
    });
    for (const env of functionsEnv(t)) expect(env.TOLLGATE_CP_LOG_BUCKET).toBeUndefined();
    expect(JSON.stringify(policyStatements(t))).not.toMatch(/s3:(Put|Get)Object"[^}]*LogStore/);
    t.resourceCountIs('AWS::RDS::DBProxy', 0);
    t.resourceCountIs('AWS::RDS::DBInstance', 1);
    t.hasResourceProperties('AWS::RDS::DBCluster', { ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 16 } });
    t.resourceCountIs('Custom::Trigger', 0);
    t.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512 });
    t.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' });
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ WebACLId: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } }),
    });
  });

  it('data-plane accounts may decrypt with the created key; alarms notify a topic; a UI build is uploaded', () => {
    const { template } = synthControlPlane(
      { dataPlaneAccountIds: ['333333333333'], uiAssetsDir: UI_FIXTURE_DIR },
      (stack) => ({ alarmTopic: new sns.Topic(stack, 'Alarms') }),
    );
    template.resourceCountIs('Custom::CDKBucketDeployment', 1);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({
        Sid: 'TollgateDataPlane333333333333Decrypt', Action: 'kms:Decrypt',
      })]) },
    });
    for (const a of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect((a as any).Properties.AlarmActions).toHaveLength(1);
    }
  });
});
