import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthDataPlane } from './helpers.js';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555';

function containerEnv(t: import('aws-cdk-lib/assertions').Template): Record<string, unknown> {
  const td = Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0] as any;
  return Object.fromEntries(td.Properties.ContainerDefinitions[0].Environment.map((e: any) => [e.Name, e.Value]));
}

const CERT_ARN = 'arn:aws:acm:eu-west-1:111111111111:certificate/abc';

// Each configuration is synthesized once and shared by its assertions.
const defaults = synthDataPlane();

describe('DataPlane defaults', () => {
  const t = defaults.template;

  it('runs the gateway on Fargate ARM64 with 1 vCPU / 2 GiB, two tasks, circuit-breaker rollback', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '2048',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      RequiresCompatibilities: ['FARGATE'],
    });
    t.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 2,
      LaunchType: 'FARGATE',
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
    });
  });

  it('configures the container: env, secrets from Secrets Manager, health check, drain, read-only root', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({
        Name: 'gateway',
        Image: 'public.ecr.aws/tollgate/gateway:0.1.0',
        ReadonlyRootFilesystem: true,
        StopTimeout: 70,
        PortMappings: [Match.objectLike({ ContainerPort: 8787 })],
        LinuxParameters: { InitProcessEnabled: true },
        HealthCheck: Match.objectLike({ Command: Match.arrayWith(['CMD', 'node']) }),
        Secrets: Match.arrayWith([
          Match.objectLike({ Name: 'TOLLGATE_DATA_PLANE_TOKEN' }),
          Match.objectLike({ Name: 'TOLLGATE_REDIS_AUTH_TOKEN' }),
        ]),
      })],
    });
    const env = containerEnv(t);
    expect(env).toMatchObject({
      PORT: '8787', HOST: '0.0.0.0', NODE_ENV: 'production',
      TOLLGATE_CONTROL_PLANE_URL: 'https://cp.example.com', TOLLGATE_CACHE: 'redis', TOLLGATE_SYNC_INTERVAL: '30',
      TOLLGATE_LOG_MODE: 'customer', TOLLGATE_LOG_BUCKET: { Ref: expect.any(String) },
    });
    expect(JSON.stringify(env.TOLLGATE_REDIS_URL)).toContain('rediss://');
    expect(env.TOLLGATE_KMS_KEY_ARN).toBeUndefined();
    expect(env.TOLLGATE_CUSTOM_HOST_ALLOWLIST).toBeUndefined();
  });

  it('ALB access logs: the ELB log-delivery principals may put under alb/ only (region from a mapping when env-agnostic)', () => {
    const policy = Object.values(t.findResources('AWS::S3::BucketPolicy')).map((p: any) => p.Properties.PolicyDocument.Statement)
      .find((st: any[]) => JSON.stringify(st).includes('logdelivery.elasticloadbalancing.amazonaws.com')) as any[];
    expect(policy).toBeDefined();
    const puts = policy.filter((st) => st.Action === 's3:PutObject' && st.Effect === 'Allow');
    expect(puts).toHaveLength(2);
    for (const st of puts) expect(JSON.stringify(st.Resource)).toContain('/alb/AWSLogs/');
    expect(JSON.stringify(puts)).toContain('Fn::FindInMap');
  });

  it('puts an internal ALB in front with HTTP only inside the VPC, access logs and /v1/health', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
    });
    const attrs = Object.fromEntries((Object.values(t.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))[0] as any)
      .Properties.LoadBalancerAttributes.map((a: { Key: string; Value: unknown }) => [a.Key, a.Value]));
    expect(attrs).toMatchObject({
      'access_logs.s3.enabled': 'true', 'access_logs.s3.prefix': 'alb',
      'routing.http.drop_invalid_header_fields.enabled': 'true', 'idle_timeout.timeout_seconds': '300',
    });
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8787,
      HealthCheckPath: '/v1/health',
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '60' }]),
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('ALB'),
      SecurityGroupIngress: [Match.objectLike({ FromPort: 80, ToPort: 80, CidrIp: { 'Fn::GetAtt': [Match.anyValue(), 'CidrBlock'] } })],
    });
  });

  it('creates a Multi-AZ Valkey replication group with TLS, KMS at rest and an AUTH token secret', () => {
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      EngineVersion: '8.0',
      CacheNodeType: 'cache.t4g.small',
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      KmsKeyId: Match.anyValue(),
      AuthToken: Match.anyValue(),
      Port: 6380,
    });
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'token', ExcludePunctuation: true }),
    });
  });

  it('opens the cache only to the gateway tasks and the tasks only to the ALB', () => {
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6380, ToPort: 6380, Description: Match.stringLikeRegexp('cache'),
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 8787, ToPort: 8787 });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('gateway tasks'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
    });
  });

  it('creates a KMS-encrypted, TLS-only, private log bucket with a lifecycle', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({
        ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
      })] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' })]) },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'log-bucket/' }),
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('grants the task role only object put/get on its bucket (no kms:Decrypt without kmsKeyArn)', () => {
    const policies = t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('TaskRoleDefaultPolicy') } });
    const statements = Object.values(policies).flatMap((p) => (p as any).Properties.PolicyDocument.Statement);
    expect(statements.map((s: any) => s.Action)).toEqual([['s3:PutObject', 's3:GetObject'], ['kms:GenerateDataKey', 'kms:Decrypt']]);
    expect(statements[1].Condition.StringEquals['kms:ViaService']).toBeDefined();
  });

  it('autoscales 2-10 tasks on CPU (60%) and requests per target (1000)', () => {
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 10 });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: 60,
      }),
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }), TargetValue: 1000,
      }),
    });
  });

  it('alarms on 5xx, latency, CPU, memory, healthy tasks and sync age, without actions', () => {
    t.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Tollgate', MetricName: 'SyncAgeSeconds', Threshold: 90, Statistic: 'Maximum',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CPUUtilization', Threshold: 85 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'MemoryUtilization', Threshold: 85 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TargetResponseTime', Threshold: 30, ExtendedStatistic: 'p99' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'HealthyHostCount', ComparisonOperator: 'LessThanThreshold' });
    for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) expect((a as any).Properties.AlarmActions).toBeUndefined();
  });

  it('creates a VPC with flow logs and one NAT gateway, and outputs the gateway URL', () => {
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.resourceCountIs('AWS::EC2::FlowLog', 1);
    t.hasOutput('*', { Value: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [Match.anyValue(), 'DNSName'] }]] } });
  });

  it('exposes accessors', () => {
    const dp = defaults.dataPlane;
    const { stack } = defaults;
    expect(dp.connections.defaultPort?.toString()).toBe('80');
    expect(dp.connections.securityGroups.map((g) => stack.resolve(g.securityGroupId)))
      .toEqual(dp.loadBalancer.connections.securityGroups.map((g) => stack.resolve(g.securityGroupId)));
    expect(stack.resolve(dp.loadBalancer.loadBalancerArn)).toEqual({ Ref: expect.stringMatching(/LoadBalancer/) });
    expect(stack.resolve(dp.listener.listenerArn)).toEqual({ Ref: expect.stringMatching(/LoadBalancerHttp/) });
    expect(stack.resolve(dp.service.serviceArn)).toEqual({ Ref: expect.stringMatching(/Service/) });
    expect(dp.cache.cfnResourceType).toBe('AWS::ElastiCache::ReplicationGroup');
    expect(dp.cacheAuthSecret).toBeDefined();
    expect(stack.resolve(dp.url)).toEqual({ 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [expect.stringMatching(/LoadBalancer/), 'DNSName'] }]] });
    expect(typeof dp.grantConnect).toBe('function');
    expect(typeof dp.grantReadLogs).toBe('function');
    expect(dp.logMode).toBe('customer');
    expect(dp.logBucket).toBeDefined();
    expect(dp.alarms).toHaveLength(6);
    expect(dp.service).toBeDefined();
    expect(dp.cache.engine).toBe('valkey');
  });
});

describe('DataPlane options', () => {
  it('public HTTPS ALB: 443 with the certificate, 80 redirects, open to the internet on those ports only', () => {
    const { template: t } = synthDataPlane((stack) => ({
      publicLoadBalancer: true,
      certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', CERT_ARN),
      domainName: 'gw.example.com',
    }));
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443, Protocol: 'HTTPS', Certificates: [{ CertificateArn: CERT_ARN }], SslPolicy: Match.stringLikeRegexp('TLS'),
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80, DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) })],
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('ALB'),
      SecurityGroupIngress: Match.arrayWith([
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443 }), Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 80 }),
      ]),
    });
    t.hasOutput('*', { Value: 'https://gw.example.com' });
  });

  it('public plain HTTP only with the explicit opt-in', () => {
    const { template: t } = synthDataPlane({ publicLoadBalancer: true, allowInsecurePublicHttp: true });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
  });

  it('existing VPC, sizes, scaling, drain, sync interval, allowlist, KMS key, alarm topic, thresholds, grantConnect', () => {
    const { template: t } = synthDataPlane(
      (stack) => ({
        vpc: new ec2.Vpc(stack, 'CallerVpc', { ipAddresses: ec2.IpAddresses.cidr('10.1.0.0/16'), natGateways: 0,
          subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] }),
        serviceSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        allowedCidrs: ['10.1.0.0/16'],
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        cpu: 2048, memoryMiB: 4096, minCapacity: 3, maxCapacity: 20,
        drainTimeout: Duration.seconds(30), syncInterval: Duration.seconds(15),
        customHostAllowlist: ['llm.internal', 'api.example.com'],
        kmsKeyArn: KEY_ARN,
        environment: { EXTRA: '1' },
        credentialSecretField: 'token',
        alarmTopic: new sns.Topic(stack, 'Alarms'),
        alarms: { maxSyncAge: Duration.minutes(2), cpuPercent: 70 },
      }),
      (dp, stack) => dp.grantConnect(new ec2.SecurityGroup(stack, 'Caller', { vpc: dp.vpc })),
    );
    t.resourceCountIs('AWS::EC2::VPC', 1); // only the caller's
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '2048', Memory: '4096',
      RuntimePlatform: Match.objectLike({ CpuArchitecture: 'X86_64' }),
      ContainerDefinitions: [Match.objectLike({
        StopTimeout: 40,
      })],
    });
    expect(containerEnv(t)).toMatchObject({
      TOLLGATE_SYNC_INTERVAL: '15', TOLLGATE_KMS_KEY_ARN: KEY_ARN,
      TOLLGATE_CUSTOM_HOST_ALLOWLIST: 'llm.internal,api.example.com', EXTRA: '1',
    });
    expect(JSON.stringify(t.findResources('AWS::ECS::TaskDefinition'))).toContain('secret:tollgate/data-plane-credential:token::');
    t.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 3 });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 3, MaxCapacity: 20 });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'kms:Decrypt', Effect: 'Allow', Resource: KEY_ARN }]) },
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'SyncAgeSeconds', Threshold: 120 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CPUUtilization', Threshold: 70 });
    for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) {
      expect((a as any).Properties.AlarmActions).toHaveLength(1);
      expect((a as any).Properties.OKActions).toHaveLength(1);
    }
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('ALB'),
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.1.0.0/16', FromPort: 80 })],
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 80, ToPort: 80, Description: 'Tollgate gateway caller' });
  });

  it("logMode 'control-plane': no log bucket, no S3 grants, mode passed to the gateway", () => {
    const { template: t, dataPlane } = synthDataPlane({ logMode: 'control-plane' });
    expect(dataPlane.logBucket).toBeUndefined();
    t.resourceCountIs('AWS::S3::Bucket', 1); // access logs only
    const env = JSON.stringify(t.findResources('AWS::ECS::TaskDefinition'));
    expect(env).toContain('"control-plane"');
    expect(env).not.toContain('TOLLGATE_LOG_BUCKET');
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).not.toContain('s3:PutObject');
  });

  it('single-AZ Redis cache and a shorter log retention', () => {
    const s = synthDataPlane({
      cache: { engine: 'redis', multiAz: false, nodeType: 'cache.r7g.large', port: 6379, snapshotRetentionDays: 0 },
      logRetention: Duration.days(30),
    });
    s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'redis', EngineVersion: '7.1', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 1,
      MultiAZEnabled: false, AutomaticFailoverEnabled: false, Port: 6379, SnapshotRetentionLimit: 0,
    });
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
      BucketEncryption: Match.objectLike({ ServerSideEncryptionConfiguration: [Match.objectLike({ BucketKeyEnabled: true })] }),
    });
  });

  it('IAM cache authentication: an IAM user in a user group with the default user off, no AUTH secret, elasticache:Connect for the tasks', () => {
    const { template: t, dataPlane } = synthDataPlane({ cache: { authentication: 'iam' } });
    expect(dataPlane.cacheAuthSecret).toBeUndefined();
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const users = Object.values(t.findResources('AWS::ElastiCache::User')).map((r: any) => r.Properties);
    const gw = users.find((u) => u.AuthenticationMode.Type === 'iam');
    const def = users.find((u) => u.UserName === 'default');
    expect(gw.UserId).toBe(gw.UserName); // IAM users need user id = user name
    expect(gw.UserId).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(gw.AccessString).toMatch(/^on ~tollgate:\* /);
    expect(def).toMatchObject({ AccessString: 'off -@all', Engine: 'valkey' });
    t.hasResourceProperties('AWS::ElastiCache::UserGroup', { UserIds: [def.UserId, gw.UserId], Engine: 'valkey' });
    const group = Object.values(t.findResources('AWS::ElastiCache::ReplicationGroup'))[0] as any;
    expect(group.Properties.AuthToken).toBeUndefined();
    expect(group.Properties.UserGroupIds).toHaveLength(1);
    expect(group.Properties.TransitEncryptionEnabled).toBe(true);
    const groupId = group.Properties.ReplicationGroupId;
    expect(groupId).toMatch(/^[a-z][a-z0-9-]{0,39}$/);
    const env = containerEnv(t);
    expect(env).toMatchObject({ TOLLGATE_REDIS_IAM_USER: gw.UserId, TOLLGATE_REDIS_IAM_CACHE_NAME: groupId });
    const td = Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0] as any;
    expect(td.Properties.ContainerDefinitions[0].Secrets.map((x: any) => x.Name)).not.toContain('TOLLGATE_REDIS_AUTH_TOKEN');
    const connect = Object.values(t.findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .find((st: any) => st.Action === 'elasticache:Connect');
    expect(connect).toBeDefined();
    expect(JSON.stringify(connect.Resource)).toContain(':replicationgroup:');
    expect(JSON.stringify(connect.Resource)).toContain('GatewayUser');
  });

  it('cluster mode: shards with replicas, the cluster parameter group, the configuration endpoint', () => {
    const { template: t } = synthDataPlane({ cache: { shards: 3, nodes: 3 } });
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ClusterMode: 'enabled', NumNodeGroups: 3, ReplicasPerNodeGroup: 2, AutomaticFailoverEnabled: true,
      CacheParameterGroupName: 'default.valkey8.cluster.on', NumCacheClusters: Match.absent(),
    });
    const env = containerEnv(t);
    expect(env.TOLLGATE_REDIS_CLUSTER).toBe('true');
    expect(JSON.stringify(env.TOLLGATE_REDIS_URL)).toContain('ConfigurationEndPoint.Address');
    // Token authentication stays the default.
    expect(JSON.stringify(Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0])).toContain('TOLLGATE_REDIS_AUTH_TOKEN');
  });

  it('default image: built from the package Dockerfile for linux/arm64 (asset), without Docker at synth', () => {
    const { app } = synthDataPlane({ image: undefined });
    const asm = app.synth();
    const manifest = JSON.parse(readFileSync(join(asm.directory, 'Dp.assets.json'), 'utf8'));
    const images = Object.values(manifest.dockerImages) as Array<{ source: { directory: string; platform?: string } }>;
    expect(images).toHaveLength(1);
    expect(images[0]!.source.platform).toBe('linux/arm64');
    const context = join(asm.directory, images[0]!.source.directory);
    expect(existsSync(join(context, 'Dockerfile'))).toBe(true);
    expect(existsSync(join(context, 'runtime'))).toBe(true);
    for (const excluded of ['node_modules', 'test', 'bench', 'cdk.out', '.git']) expect(existsSync(join(context, excluded))).toBe(false);
  });
});

