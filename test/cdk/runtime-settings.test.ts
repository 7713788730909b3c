import { Duration, Size } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../lib/paths.js';
import { synthControlPlane, synthDataPlane } from './helpers.js';

// The runtime settings the sync (#5) and observability (#6) work added, as the constructs set them.

const KEY = 'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555';
const OLD_KEY = 'arn:aws:kms:eu-west-1:111111111111:key/99999999-2222-3333-4444-555555555555';

function container(t: Template): any {
  return (Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0] as any).Properties.ContainerDefinitions[0];
}
function env(t: Template): Record<string, unknown> {
  return Object.fromEntries(container(t).Environment.map((e: any) => [e.Name, e.Value]));
}
function taskRoleStatements(t: Template): any[] {
  return Object.values(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('TaskRoleDefaultPolicy') } }))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

/** Every `TOLLGATE_*` / `OTEL_*` name that appears in the gateway / control-plane runtime sources. */
function namesTheRuntimeReads(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry === 'node_modules' || entry === 'dist') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/(TOLLGATE|OTEL)_[A-Z0-9_]+/g)) names.add(m[0]);
    }
  };
  walk(join(PACKAGE_ROOT, 'runtime'));
  return names;
}

describe('DataPlane runtime settings: defaults', () => {
  const { template: t, dataPlane } = synthDataPlane();

  it('spools undeliverable telemetry on a task volume (writable under the read-only root), not in memory', () => {
    expect(env(t).TOLLGATE_SPOOL_DIR).toBe('/var/lib/tollgate/spool');
    expect(container(t).MountPoints).toEqual(expect.arrayContaining([
      { ContainerPath: '/var/lib/tollgate', SourceVolume: 'data', ReadOnly: false },
      { ContainerPath: '/tmp', SourceVolume: 'tmp', ReadOnly: false },
    ]));
    t.hasResourceProperties('AWS::ECS::TaskDefinition', { Volumes: Match.arrayWith([{ Name: 'data' }]) });
    expect(container(t).ReadonlyRootFilesystem).toBe(true);
  });

  it('tells the control plane to fetch customer-mode logs at the gateway URL, not the task address', () => {
    expect(env(t).TOLLGATE_GATEWAY_PUBLIC_URL).toEqual({ 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [expect.stringMatching(/LoadBalancer/), 'DNSName'] }]] });
    expect(dataPlane.url).toBeDefined();
    // Internal plain-HTTP ALB in customer mode: synth says the control plane cannot open logs there.
    Annotations.fromStack(synthDataPlane().stack).hasWarning('*', Match.stringLikeRegexp('logMode customer: the control plane opens a request log'));
  });

  it('puts log objects with SSE-KMS under the log bucket key; leaves runtime defaults for limits, cache layer, telemetry', () => {
    const e = env(t);
    expect(e.TOLLGATE_LOG_KMS_KEY_ID).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/Key/), 'Arn'] });
    for (const k of ['TOLLGATE_LOG_PREFIX', 'TOLLGATE_MAX_SYNC_AGE', 'TOLLGATE_KMS_PREVIOUS_KEY_ARNS', 'TOLLGATE_RATE_LIMIT_ON_REDIS_DOWN',
      'TOLLGATE_RATE_LIMIT_LOCAL_FRACTION', 'TOLLGATE_TELEMETRY', 'TOLLGATE_SPOOL_MAX_BYTES', 'TOLLGATE_TELEMETRY_FLUSH_MS',
      'TOLLGATE_TELEMETRY_BATCH_SIZE', 'TOLLGATE_CACHE_LOCAL_MAX_BYTES', 'TOLLGATE_CACHE_LOCAL_TTL_SECONDS', 'TOLLGATE_DEV_MODE']) {
      expect(e[k], k).toBeUndefined();
    }
    expect(container(t).Secrets.map((s: any) => s.Name).sort()).toEqual(['TOLLGATE_DATA_PLANE_TOKEN', 'TOLLGATE_REDIS_AUTH_TOKEN']);
  });

  it('sets only variables the runtime reads', () => {
    const read = namesTheRuntimeReads();
    const full = synthDataPlane((s) => ({
      kmsKeyArn: KEY, previousKmsKeyArns: [OLD_KEY], healthMaxSyncAge: Duration.minutes(5), logPrefix: 'gw/',
      customHostAllowlist: ['llm.internal'], cache: { localMaxSize: Size.mebibytes(8), localTtl: Duration.seconds(5), shards: 2, authentication: 'iam' },
      limits: { onCacheDown: 'closed', localFraction: 0.5, budgetAlertWebhook: secretsmanager.Secret.fromSecretNameV2(s, 'Hook', 'hook') },
      telemetry: { enabled: false, spoolMaxSize: Size.mebibytes(10), flushInterval: Duration.seconds(1), batchSize: 100 },
      tracing: { endpoint: 'https://otlp.example.com/v1/traces', headers: secretsmanager.Secret.fromSecretNameV2(s, 'Otlp', 'otlp'), sampleRatio: 0.1, serviceName: 'gw' },
    })).template;
    const names = [...Object.keys(env(full)), ...container(full).Secrets.map((s: any) => s.Name)].filter((n) => /^(TOLLGATE|OTEL)_/.test(n));
    expect(names.length).toBeGreaterThan(25);
    expect(names).toEqual(expect.arrayContaining(['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'TOLLGATE_DRAIN_TIMEOUT']));
    for (const n of names) expect(read.has(n), `${n} is set by DataPlane but read nowhere in runtime/`).toBe(true);
  });
});

describe('DataPlane runtime settings: props', () => {
  it('previous keys: the gateway decrypts with them (env) and the task role may kms:Decrypt them, nothing else', () => {
    const { template: t } = synthDataPlane({ kmsKeyArn: KEY, previousKmsKeyArns: [OLD_KEY] });
    expect(env(t)).toMatchObject({ TOLLGATE_KMS_KEY_ARN: KEY, TOLLGATE_KMS_PREVIOUS_KEY_ARNS: OLD_KEY });
    const decrypt = taskRoleStatements(t).filter((s) => s.Action === 'kms:Decrypt');
    expect(decrypt).toEqual([expect.objectContaining({ Resource: [KEY, OLD_KEY] })]);
  });

  it('health staleness limit, public URL, cache layer, limits, telemetry', () => {
    const { template: t } = synthDataPlane((s) => ({
      healthMaxSyncAge: Duration.minutes(10),
      gatewayPublicUrl: 'https://gw-logs.example.com',
      cache: { localMaxSize: Size.mebibytes(16), localTtl: Duration.seconds(10) },
      limits: { onCacheDown: 'closed', localFraction: 0.25, budgetAlertWebhook: secretsmanager.Secret.fromSecretNameV2(s, 'Hook', 'tollgate/budget-webhook') },
      telemetry: { spoolMaxSize: Size.mebibytes(500), flushInterval: Duration.seconds(10), batchSize: 1000 },
    }));
    expect(env(t)).toMatchObject({
      TOLLGATE_MAX_SYNC_AGE: '600',
      TOLLGATE_GATEWAY_PUBLIC_URL: 'https://gw-logs.example.com',
      TOLLGATE_CACHE_LOCAL_MAX_BYTES: String(16 * 1024 * 1024),
      TOLLGATE_CACHE_LOCAL_TTL_SECONDS: '10',
      TOLLGATE_RATE_LIMIT_ON_REDIS_DOWN: 'closed',
      TOLLGATE_RATE_LIMIT_LOCAL_FRACTION: '0.25',
      TOLLGATE_SPOOL_MAX_BYTES: String(500 * 1024 * 1024),
      TOLLGATE_TELEMETRY_FLUSH_MS: '10000',
      TOLLGATE_TELEMETRY_BATCH_SIZE: '1000',
    });
    // The webhook URL is a secret: injected by ECS from Secrets Manager, never in the plain environment.
    expect(env(t).TOLLGATE_BUDGET_ALERT_WEBHOOK).toBeUndefined();
    const hook = container(t).Secrets.find((s: any) => s.Name === 'TOLLGATE_BUDGET_ALERT_WEBHOOK');
    expect(JSON.stringify(hook.ValueFrom)).toContain('secret:tollgate/budget-webhook');
    // The execution role reads exactly the three secrets of this task.
    const execution = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ExecutionRoleDefaultPolicy') } }))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => JSON.stringify(s.Action).includes('secretsmanager:'));
    const resources = execution.flatMap((s: any) => [s.Resource].flat()).map((r: unknown) => JSON.stringify(r));
    expect(resources).toHaveLength(3);
    expect(resources.some((r) => r.includes('secret:tollgate/data-plane-credential'))).toBe(true);
    expect(resources.some((r) => r.includes('secret:tollgate/budget-webhook'))).toBe(true);
    expect(resources.some((r) => r.includes('CacheAuthToken'))).toBe(true);
    expect(resources.some((r) => r.includes('*') && !r.includes('-??????'))).toBe(false);
  });

  it('drain: the gateway drains after SIGTERM as long as the ALB did, within the stop timeout', () => {
    const { template: t } = synthDataPlane({ drainTimeout: Duration.seconds(90) });
    expect(env(t).TOLLGATE_DRAIN_TIMEOUT).toBe('90');
    expect(container(t).StopTimeout).toBe(100);
    expect(env(synthDataPlane({ drainTimeout: Duration.seconds(0) }).template).TOLLGATE_DRAIN_TIMEOUT).toBe('1');
  });

  it('OpenTelemetry: endpoint, sampling and service name in env, headers from Secrets Manager, egress to a remote collector port', () => {
    const { template: t } = synthDataPlane((s) => ({
      tracing: { endpoint: 'http://collector.internal:4318/v1/traces', sampleRatio: 0.2, serviceName: 'acme-gateway',
        headers: secretsmanager.Secret.fromSecretNameV2(s, 'OtlpHeaders', 'tollgate/otlp-headers') },
    }));
    expect(env(t)).toMatchObject({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector.internal:4318/v1/traces', OTEL_TRACES_SAMPLER_ARG: '0.2', OTEL_SERVICE_NAME: 'acme-gateway',
    });
    expect(env(t).OTEL_EXPORTER_OTLP_TRACES_HEADERS).toBeUndefined();
    expect(JSON.stringify(container(t).Secrets.find((x: any) => x.Name === 'OTEL_EXPORTER_OTLP_TRACES_HEADERS').ValueFrom)).toContain('secret:tollgate/otlp-headers');
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('gateway tasks'),
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 4318, ToPort: 4318 })]),
    });
    // A sidecar on localhost needs no egress rule; no tracing means no OTEL_ variable at all.
    const sidecar = synthDataPlane({ tracing: { endpoint: 'http://localhost:4318/v1/traces' } }).template;
    expect(JSON.stringify(sidecar.findResources('AWS::EC2::SecurityGroup'))).not.toContain('4318');
    expect(Object.keys(env(synthDataPlane().template)).filter((k) => k.startsWith('OTEL_'))).toEqual([]);
  });

  it('telemetry off', () => {
    expect(env(synthDataPlane({ telemetry: { enabled: false } }).template).TOLLGATE_TELEMETRY).toBe('off');
  });

  it('an existing log bucket with its key and a prefix: env and grants limited to that prefix', () => {
    const { template: t, dataPlane } = synthDataPlane((s) => ({
      logBucket: s3.Bucket.fromBucketAttributes(s, 'Shared', {
        bucketName: 'acme-shared-logs',
        encryptionKey: kms.Key.fromKeyArn(s, 'SharedKey', KEY),
      }),
      logPrefix: 'tollgate/',
    }), (dp, s) => dp.grantReadLogs(new iam.Role(s, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() })));
    expect(dataPlane.logBucket?.bucketName).toBe('acme-shared-logs');
    t.resourceCountIs('AWS::S3::Bucket', 1); // access logs only: the log bucket is the caller's
    expect(env(t)).toMatchObject({ TOLLGATE_LOG_BUCKET: 'acme-shared-logs', TOLLGATE_LOG_PREFIX: 'tollgate/', TOLLGATE_LOG_KMS_KEY_ID: KEY });
    const objects = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-shared-logs/tollgate/*']] };
    expect(taskRoleStatements(t)).toContainEqual(expect.objectContaining({ Action: ['s3:PutObject', 's3:GetObject'], Resource: objects }));
    expect(taskRoleStatements(t)).toContainEqual(expect.objectContaining({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: KEY }));
    // grantReadLogs: get only, same prefix, decrypt on the bucket key.
    const analyst = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('Analyst') } }))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(analyst).toContainEqual(expect.objectContaining({ Action: 's3:GetObject', Resource: objects }));
    expect(analyst).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt', Resource: KEY }));
    expect(JSON.stringify(analyst)).not.toContain('s3:PutObject');
  });

  it('no log-fetch warning for a public HTTPS gateway', () => {
    const { stack } = synthDataPlane((s) => ({
      publicLoadBalancer: true, certificate: acm.Certificate.fromCertificateArn(s, 'C', 'arn:aws:acm:eu-west-1:111111111111:certificate/x'),
    }));
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('logMode customer'))).toHaveLength(0);
  });
});

describe('ControlPlane runtime settings', () => {
  it('external OIDC with a confidential client: only auth reads the client secret, by ARN; org id passed', () => {
    const { template: t } = synthControlPlane(
      { oidcIssuerUrl: 'https://login.example.com', oidcClientId: 'ui', oidcOrganisationId: 'org_acme', runMigrations: false },
      (deps) => ({ oidcClientSecret: secretsmanager.Secret.fromSecretCompleteArn(deps, 'OidcSecret',
        'arn:aws:secretsmanager:eu-west-1:111111111111:secret:tollgate/oidc-client-AbCdEf') }),
    );
    const fns = Object.values(t.findResources('AWS::Lambda::Function')).map((f: any) => f.Properties);
    const auth = fns.find((f) => f.Description === 'Tollgate control plane: auth');
    expect(auth.Environment.Variables).toMatchObject({
      TOLLGATE_OIDC_CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:tollgate/oidc-client-AbCdEf',
      TOLLGATE_OIDC_ORGANISATION_ID: 'org_acme',
    });
    expect(auth.Environment.Variables.TOLLGATE_OIDC_CLIENT_SECRET).toBeUndefined();
    for (const f of fns.filter((x) => x !== auth && x.Environment?.Variables)) {
      expect(f.Environment.Variables.TOLLGATE_OIDC_CLIENT_SECRET_ARN, f.Description).toBeUndefined();
    }
    const readers = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.PolicyDocument).includes('tollgate/oidc-client'));
    expect(readers).toHaveLength(1);
    expect(JSON.stringify((readers[0] as any).Properties.Roles)).toMatch(/ApiAuth/);
  });

  it('sets only variables the runtime reads', () => {
    const read = namesTheRuntimeReads();
    const { template: t } = synthControlPlane({ metricsStore: 'timestream' });
    const names = new Set(Object.values(t.findResources('AWS::Lambda::Function'))
      .flatMap((f: any) => Object.keys(f.Properties.Environment?.Variables ?? {}))
      .filter((n) => n.startsWith('TOLLGATE_')));
    expect(names.size).toBeGreaterThan(15);
    for (const n of names) expect(read.has(n), `${n} is set by ControlPlane but read nowhere in runtime/`).toBe(true);
  });
});
