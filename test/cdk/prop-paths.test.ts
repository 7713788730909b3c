import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { DataPlaneStack } from '../../lib/index.js';
import { PINNED_IMAGE, synthControlPlane, synthDataPlane } from './helpers.js';

// Prop paths (and their defaults) that the other files do not cover.

const alarm = (t: Template, metric: string): any =>
  (Object.values(t.findResources('AWS::CloudWatch::Alarm')).find((a: any) =>
    a.Properties.MetricName === metric || JSON.stringify(a.Properties.Metrics ?? []).includes(metric)) as any).Properties;
const envOf = (t: Template): Record<string, unknown> => Object.fromEntries(
  (Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0] as any).Properties.ContainerDefinitions[0].Environment.map((e: any) => [e.Name, e.Value]));
const expiry = (t: Template, logical: RegExp): number => {
  const [, bucket] = Object.entries(t.findResources('AWS::S3::Bucket')).find(([id]) => logical.test(id))!;
  return (bucket as any).Properties.LifecycleConfiguration.Rules[0].ExpirationInDays;
};

describe('DataPlane prop paths', () => {
  const defaults = synthDataPlane().template;
  const custom = synthDataPlane({
    name: 'acme-eu', natGateways: 2, minCapacity: 2, maxCapacity: 8, desiredCount: 4,
    targetCpuPercent: 45, targetRequestsPerTask: 250, idleTimeout: Duration.seconds(900),
    cache: { engineVersion: '7.2' }, accessLogRetention: Duration.days(30),
    alarms: { http5xxPerMinute: 3, p99Latency: Duration.seconds(12), memoryPercent: 70 },
    removalPolicy: RemovalPolicy.DESTROY,
  }).template;

  it('defaults: name from the construct path, 90-day access logs, 10 5xx/min, RETAIN on stateful resources', () => {
    expect(envOf(defaults).TOLLGATE_DATA_PLANE_NAME).toMatch(/^DpGw/);
    expect(alarm(defaults, 'SyncAgeSeconds').Dimensions).toEqual([{ Name: 'DataPlane', Value: envOf(defaults).TOLLGATE_DATA_PLANE_NAME }]);
    expect(expiry(defaults, /AccessLogs/)).toBe(90);
    expect(alarm(defaults, 'ALB + gateway 5xx').Threshold).toBe(10);
    for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      for (const r of Object.values(defaults.findResources(type))) expect((r as any).DeletionPolicy, type).toBe('Retain');
    }
  });

  it('name, NAT gateways, desired count, scaling targets, idle timeout, engine version, access-log retention, alarm thresholds, removal policy', () => {
    expect(envOf(custom).TOLLGATE_DATA_PLANE_NAME).toBe('acme-eu');
    expect(alarm(custom, 'SyncAgeSeconds').Dimensions).toEqual([{ Name: 'DataPlane', Value: 'acme-eu' }]);
    custom.resourceCountIs('AWS::EC2::NatGateway', 2);
    custom.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 4 });
    custom.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: 45 }),
    });
    custom.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }), TargetValue: 250 }),
    });
    custom.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '900' }]),
    });
    custom.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { EngineVersion: '7.2' });
    expect(expiry(custom, /AccessLogs/)).toBe(30);
    expect(alarm(custom, 'ALB + gateway 5xx').Threshold).toBe(3);
    expect(alarm(custom, 'TargetResponseTime').Threshold).toBe(12);
    expect(alarm(custom, 'MemoryUtilization').Threshold).toBe(70);
    for (const r of Object.values(custom.findResources('AWS::S3::Bucket'))) expect((r as any).DeletionPolicy).toBe('Delete');
    for (const r of Object.values(custom.findResources('AWS::KMS::Key'))) expect((r as any).DeletionPolicy).toBe('Delete');
  });

  it('serviceSubnets: tasks and cache go to the chosen subnets', () => {
    const { template: t, dataPlane } = synthDataPlane((s) => ({
      vpc: new ec2.Vpc(s, 'Vpc2', { maxAzs: 2, natGateways: 1, subnetConfiguration: [
        { name: 'pub', subnetType: ec2.SubnetType.PUBLIC }, { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'gw', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }] }),
      serviceSubnets: { subnetGroupName: 'gw' },
    }));
    const gw = dataPlane.vpc.selectSubnets({ subnetGroupName: 'gw' }).subnetIds.map((id) => Stack.of(dataPlane).resolve(id));
    const service = Object.values(t.findResources('AWS::ECS::Service'))[0] as any;
    expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets).toEqual(gw);
    t.hasResourceProperties('AWS::ElastiCache::SubnetGroup', { SubnetIds: gw });
  });

  it('DataPlaneStack: the credential secret by name (default tollgate/data-plane-credential)', () => {
    const app = new App();
    const named = new DataPlaneStack(app, 'Named', { controlPlaneUrl: 'https://cp.example.com', image: PINNED_IMAGE, credentialSecretName: 'acme/tollgate-token' });
    const plain = new DataPlaneStack(app, 'Plain', { controlPlaneUrl: 'https://cp.example.com', image: PINNED_IMAGE });
    expect(JSON.stringify(Template.fromStack(named).findResources('AWS::ECS::TaskDefinition'))).toContain('secret:acme/tollgate-token');
    expect(JSON.stringify(Template.fromStack(plain).findResources('AWS::ECS::TaskDefinition'))).toContain('secret:tollgate/data-plane-credential');
  });
});

describe('ControlPlane prop paths', () => {
  const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/abc';
  const WEB_ACL = 'arn:aws:wafv2:us-east-1:111111111111:global/webacl/tollgate/1234';
  const defaults = synthControlPlane({ runMigrations: false }).template;
  const custom = synthControlPlane({
    runMigrations: false,
    database: { backupRetention: Duration.days(30), rotationInterval: Duration.days(7), deletionProtection: false },
    functions: { runtime: lambda.Runtime.NODEJS_22_X, logLevel: 'DEBUG' },
    logRetention: Duration.days(400), accessLogRetention: Duration.days(30),
    domainName: 'tollgate.example.com', webAclArn: WEB_ACL, cognitoDomainPrefix: 'acme-tollgate',
    apiRateLimit: 50, removalPolicy: RemovalPolicy.DESTROY,
  }, (deps) => ({ certificate: acm.Certificate.fromCertificateArn(deps, 'Cert', CERT) })).template;
  const apiFns = (t: Template) => Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^Tollgate control plane: ') } })).map((f: any) => f.Properties);

  it('defaults: a new VPC with one NAT gateway, 90-day log store, RETAIN on stateful resources', () => {
    defaults.resourceCountIs('AWS::EC2::VPC', 1);
    defaults.resourceCountIs('AWS::EC2::NatGateway', 1);
    expect(expiry(defaults, /LogStore/)).toBe(90);
    expect(expiry(defaults, /AccessLogs/)).toBe(90);
    for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::DynamoDB::Table', 'AWS::Logs::LogGroup']) {
      for (const r of Object.values(defaults.findResources(type))) expect((r as any).DeletionPolicy, type).toBe('Retain');
    }
  });

  it('database backups, rotation, deletion protection', () => {
    custom.hasResourceProperties('AWS::RDS::DBCluster', { BackupRetentionPeriod: 30, DeletionProtection: false });
    custom.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(7 days)' } });
  });

  it('function runtime (Node 22) and log level', () => {
    const fns = apiFns(custom);
    expect(fns.length).toBeGreaterThan(10);
    for (const f of fns) expect(f).toMatchObject({ Runtime: 'nodejs22.x', LoggingConfig: expect.objectContaining({ ApplicationLogLevel: 'DEBUG' }) });
  });

  it('log-store and access-log retention, custom domain with certificate, existing web ACL, Cognito domain, API rate, removal policy', () => {
    expect(expiry(custom, /LogStore/)).toBe(400);
    expect(expiry(custom, /AccessLogs/)).toBe(30);
    custom.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['tollgate.example.com'],
        ViewerCertificate: Match.objectLike({ AcmCertificateArn: CERT, MinimumProtocolVersion: 'TLSv1.2_2021' }),
        WebACLId: WEB_ACL,
      }),
    });
    custom.resourceCountIs('AWS::WAFv2::WebACL', 0);
    custom.hasOutput('*', { Value: 'https://tollgate.example.com' });
    custom.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-tollgate' });
    custom.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
    for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::Logs::LogGroup']) {
      for (const r of Object.values(custom.findResources(type))) expect((r as any).DeletionPolicy, type).toBe('Delete');
    }
  });

  it('an existing VPC: nothing network-wide is created', () => {
    const { template: t } = synthControlPlane({ runMigrations: false }, (deps) => ({
      vpc: new ec2.Vpc(deps, 'Shared', { maxAzs: 2, natGateways: 1 }),
    }));
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: Match.arrayWith([{ 'Fn::ImportValue': Match.stringLikeRegexp('Shared') }]) });
  });
});
