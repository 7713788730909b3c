import { Annotations, CfnOutput, Duration, IgnoreMode, Names, RemovalPolicy } from 'aws-cdk-lib';
import { acknowledge, iam5Resource } from './nag.js';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as elasticache from 'aws-cdk-lib/aws-elasticache';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import { createGatewayAlarms } from './data-plane/alarms.js';
import { GatewayCache } from './data-plane/cache.js';
import { GatewayLoadBalancer } from './data-plane/load-balancer.js';
import { grantLogBucketReadWrite } from './data-plane/log-bucket.js';
import type { DataPlaneProps, LogMode } from './data-plane/props.js';
import { GATEWAY_DATA_DIR, GATEWAY_PORT, GatewayService } from './data-plane/service.js';
import { validateDataPlaneProps } from './data-plane/validate.js';
import { createAccessLogsBucket, createDataBucket, createKey } from './shared/buckets.js';
import { createVpc, isLoopback, urlPort } from './shared/network.js';
import { PACKAGE_ROOT } from './paths.js';

export * from './data-plane/props.js';
export { SYNC_AGE_METRIC } from './data-plane/alarms.js';

/** Paths left out of the gateway image build context (mirrors .dockerignore). */
export const GATEWAY_IMAGE_EXCLUDE = [
  'node_modules', '**/node_modules', 'cdk.out', '**/cdk.out', '.tollgate', '.git', 'test', 'bench', 'docs', 'lib', '.ci', 'coverage', '*.log', '.tmp',
];

/** The gateway image built from the package's own Dockerfile (needs Docker at deploy time, not at synth). */
export function gatewayImageFromPackage(platform: Platform = Platform.LINUX_ARM64): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(PACKAGE_ROOT, {
    platform,
    exclude: GATEWAY_IMAGE_EXCLUDE,
    ignoreMode: IgnoreMode.DOCKER,
  });
}

/**
 * The Tollgate data plane, deployed by the customer in their own account: the gateway on ECS Fargate
 * behind an ALB, an ElastiCache (Valkey/Redis) cache, an optional S3 log bucket, alarms.
 *
 * ```ts
 * new DataPlane(this, 'Gateway', { controlPlaneUrl: 'https://api.tollgate.example.com', credentialSecret });
 * ```
 */
export class DataPlane extends Construct implements ec2.IConnectable {
  /** Security-group access to the ALB (default port: the listener port). */
  readonly connections: ec2.Connections;
  readonly vpc: ec2.IVpc;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The ElastiCache replication group. */
  readonly cache: elasticache.CfnReplicationGroup;
  /** The cache's AUTH token secret (JSON field `token`); undefined with `cache.authentication: 'iam'`. */
  readonly cacheAuthSecret?: GatewayCache['authSecret'];
  /** The request-log bucket (logMode `customer` only). */
  readonly logBucket?: s3.IBucket;
  readonly logMode: LogMode;
  /** Key prefix of the request logs in `logBucket` ('' for the bucket root). */
  readonly logPrefix: string;
  readonly alarms: cw.Alarm[];
  /** `http(s)://<ALB DNS name>` (or the given domain) that apps call. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: DataPlaneProps) {
    super(scope, id);
    validateDataPlaneProps(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (!props.kmsKeyArn) {
      Annotations.of(this).addWarningV2('tollgate:noKmsKey',
        'DataPlane has no kmsKeyArn: the gateway gets no keyring and cannot decrypt virtual keys. Pass the ControlPlane KeyArn output (or your BYOK key).');
    }
    const name = props.name ?? Names.uniqueResourceName(this, { maxLength: 64 });
    const syncInterval = props.syncInterval ?? Duration.seconds(30);
    const drainTimeout = props.drainTimeout ?? Duration.seconds(60);
    this.logMode = props.logMode ?? 'customer';
    this.logPrefix = props.logPrefix ?? '';

    this.vpc = props.vpc ?? createVpc(this, 'Vpc', props.natGateways ?? 1, removalPolicy);
    const subnets = props.serviceSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const key = createKey(this, 'Key', 'Tollgate data plane: cache at rest, log bucket, cache AUTH secret', removalPolicy);
    const accessLogs = createAccessLogsBucket(this, 'AccessLogs', props.accessLogRetention ?? Duration.days(90), removalPolicy);

    const cache = new GatewayCache(this, 'Cache', { ...props.cache, vpc: this.vpc, subnets, key, removalPolicy });
    this.cache = cache.replicationGroup;
    this.cacheAuthSecret = cache.authSecret;

    if (this.logMode === 'customer') {
      this.logBucket = props.logBucket ?? createDataBucket(this, 'LogBucket', {
        key, accessLogs, accessLogsPrefix: 'log-bucket/', retention: props.logRetention ?? Duration.days(90), removalPolicy,
      });
    }

    // The ALB comes first: its URL is the gateway's public URL in the container environment.
    const internetFacing = props.publicLoadBalancer ?? false;
    const lb = new GatewayLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing,
      subnets: internetFacing ? { subnetType: ec2.SubnetType.PUBLIC } : subnets,
      certificate: props.certificate,
      allowedCidrs: props.allowedCidrs ?? [internetFacing ? '0.0.0.0/0' : this.vpc.vpcCidrBlock],
      idleTimeout: props.idleTimeout ?? Duration.seconds(300),
      accessLogs,
    });
    this.url = `${lb.scheme}://${props.domainName ?? lb.loadBalancer.loadBalancerDnsName}`;
    const telemetry = props.telemetry ?? {};
    const limits = props.limits ?? {};
    const logPrefix = props.logPrefix ?? '';

    const environment: Record<string, string> = {
      NODE_ENV: 'production',
      PORT: String(GATEWAY_PORT),
      HOST: '0.0.0.0',
      TOLLGATE_CONTROL_PLANE_URL: props.controlPlaneUrl,
      TOLLGATE_SYNC_INTERVAL: String(syncInterval.toSeconds()),
      TOLLGATE_CACHE: 'redis',
      ...cache.environment,
      // One gateway process per whole vCPU (a Node process uses one core); the Redis cache keeps limits shared.
      TOLLGATE_GATEWAY_WORKERS: String(Math.max(1, Math.floor((props.cpu ?? 1024) / 1024))),
      TOLLGATE_LOG_MODE: this.logMode,
      TOLLGATE_DATA_PLANE_NAME: name,
      ...(this.logBucket ? { TOLLGATE_LOG_BUCKET: this.logBucket.bucketName } : {}),
      ...(this.logBucket && logPrefix ? { TOLLGATE_LOG_PREFIX: logPrefix } : {}),
      // Each log object is put with SSE-KMS under the bucket's key, whatever the bucket default says.
      ...(this.logBucket?.encryptionKey ? { TOLLGATE_LOG_KMS_KEY_ID: this.logBucket.encryptionKey.keyArn } : {}),
      // Where the control plane fetches customer-mode logs: the task's own address is unreachable from there.
      TOLLGATE_GATEWAY_PUBLIC_URL: props.gatewayPublicUrl ?? this.url,
      ...(props.kmsKeyArn ? { TOLLGATE_KMS_KEY_ARN: props.kmsKeyArn } : {}),
      ...(props.previousKmsKeyArns?.length ? { TOLLGATE_KMS_PREVIOUS_KEY_ARNS: props.previousKmsKeyArns.join(',') } : {}),
      ...(props.customHostAllowlist?.length ? { TOLLGATE_CUSTOM_HOST_ALLOWLIST: props.customHostAllowlist.join(',') } : {}),
      ...(props.healthMaxSyncAge ? { TOLLGATE_MAX_SYNC_AGE: String(props.healthMaxSyncAge.toSeconds()) } : {}),
      ...(props.cache?.localMaxSize ? { TOLLGATE_CACHE_LOCAL_MAX_BYTES: String(props.cache.localMaxSize.toBytes()) } : {}),
      ...(props.cache?.localTtl ? { TOLLGATE_CACHE_LOCAL_TTL_SECONDS: String(props.cache.localTtl.toSeconds()) } : {}),
      ...(limits.onCacheDown ? { TOLLGATE_RATE_LIMIT_ON_REDIS_DOWN: limits.onCacheDown } : {}),
      ...(limits.localFraction !== undefined ? { TOLLGATE_RATE_LIMIT_LOCAL_FRACTION: String(limits.localFraction) } : {}),
      ...(telemetry.enabled === false ? { TOLLGATE_TELEMETRY: 'off' } : {}),
      // Undeliverable batches wait on the task's ephemeral storage, not in the process's heap.
      TOLLGATE_SPOOL_DIR: `${GATEWAY_DATA_DIR}/spool`,
      ...(telemetry.spoolMaxSize ? { TOLLGATE_SPOOL_MAX_BYTES: String(telemetry.spoolMaxSize.toBytes()) } : {}),
      ...(telemetry.flushInterval ? { TOLLGATE_TELEMETRY_FLUSH_MS: String(telemetry.flushInterval.toMilliseconds()) } : {}),
      ...(telemetry.batchSize !== undefined ? { TOLLGATE_TELEMETRY_BATCH_SIZE: String(telemetry.batchSize) } : {}),
      // After SIGTERM in-flight streams get the same drain as at the ALB (stop timeout = drain + 10 s).
      TOLLGATE_DRAIN_TIMEOUT: String(Math.max(1, drainTimeout.toSeconds())),
      ...(props.tracing ? {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: props.tracing.endpoint,
        ...(props.tracing.sampleRatio !== undefined ? { OTEL_TRACES_SAMPLER_ARG: String(props.tracing.sampleRatio) } : {}),
        ...(props.tracing.serviceName ? { OTEL_SERVICE_NAME: props.tracing.serviceName } : {}),
      } : {}),
      ...props.environment,
    };
    const gateway = new GatewayService(this, 'Gateway', {
      vpc: this.vpc,
      subnets,
      image: props.image ?? gatewayImageFromPackage(),
      cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.ARM64,
      cpu: props.cpu ?? 1024,
      memoryMiB: props.memoryMiB ?? 2048,
      desiredCount: props.desiredCount ?? props.minCapacity ?? 2,
      drainTimeout,
      environment,
      secrets: {
        TOLLGATE_DATA_PLANE_TOKEN: ecs.Secret.fromSecretsManager(props.credentialSecret, props.credentialSecretField),
        ...(cache.authSecret ? { TOLLGATE_REDIS_AUTH_TOKEN: ecs.Secret.fromSecretsManager(cache.authSecret, 'token') } : {}),
        ...(limits.budgetAlertWebhook ? { TOLLGATE_BUDGET_ALERT_WEBHOOK: ecs.Secret.fromSecretsManager(limits.budgetAlertWebhook) } : {}),
        ...(props.tracing?.headers ? { OTEL_EXPORTER_OTLP_TRACES_HEADERS: ecs.Secret.fromSecretsManager(props.tracing.headers) } : {}),
      },
      removalPolicy,
    });
    this.service = gateway.service;
    this.taskDefinition = gateway.taskDefinition;
    cache.connections.allowDefaultPortFrom(this.service, 'Gateway tasks to cache (TLS + AUTH)');
    cache.grantConnect(this.taskDefinition.taskRole);
    const cpPort = urlPort(props.controlPlaneUrl);
    if (cpPort !== undefined && cpPort !== 443) {
      this.service.connections.allowTo(ec2.Peer.anyIpv4(), ec2.Port.tcp(cpPort), 'Tollgate control plane');
    }
    // A remote collector on a port other than 443 (a sidecar on localhost needs no rule).
    const otlpPort = props.tracing && !isLoopback(props.tracing.endpoint) ? urlPort(props.tracing.endpoint) : undefined;
    if (otlpPort !== undefined && otlpPort !== 443 && otlpPort !== cpPort) {
      this.service.connections.allowTo(ec2.Peer.anyIpv4(), ec2.Port.tcp(otlpPort), 'OpenTelemetry collector (OTLP/HTTP)');
    }

    // Least privilege: the task role decrypts with the organisation key only, and reads/writes log objects only.
    const taskRole = this.taskDefinition.taskRole;
    if (props.kmsKeyArn) {
      taskRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [props.kmsKeyArn, ...(props.previousKmsKeyArns ?? [])] }));
    }
    if (this.logBucket) {
      grantLogBucketReadWrite(this.logBucket, taskRole, logPrefix);
      acknowledge(taskRole, 'Request logs are objects keyed by org/workspace/date/log id: the task role may put/get objects of its own log bucket (prefix) only.',
        iam5Resource(this, this.logBucket.arnForObjects(`${logPrefix}*`)));
    }
    if ((props.logMode ?? 'customer') === 'customer' && !props.gatewayPublicUrl && (lb.scheme !== 'https' || !internetFacing)) {
      Annotations.of(this).addWarningV2('tollgate:logFetch',
        'logMode customer: the control plane opens a request log by calling this gateway over HTTPS at its GatewayUrl, which is internal or plain HTTP here. Give the ALB a certificate and a route the control plane can reach (publicLoadBalancer + allowedCidrs), or set gatewayPublicUrl; otherwise use logMode control-plane.');
    }
    acknowledge(this.taskDefinition.obtainExecutionRole(),
      'ecr:GetAuthorizationToken has no resource-level permissions (AWS requires Resource *); image pulls are scoped to the asset repository.',
      'AwsSolutions-IAM5[Resource::*]');

    this.loadBalancer = lb.loadBalancer;
    this.listener = lb.listener;
    this.connections = new ec2.Connections({
      securityGroups: this.loadBalancer.connections.securityGroups,
      defaultPort: ec2.Port.tcp(lb.port),
    });
    this.targetGroup = lb.addGatewayTarget(
      this.service.loadBalancerTarget({ containerName: 'gateway', containerPort: GATEWAY_PORT }),
      GATEWAY_PORT,
      drainTimeout,
    );

    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.minCapacity ?? 2, maxCapacity: props.maxCapacity ?? 10 });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.targetCpuPercent ?? 60,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });
    scaling.scaleOnRequestCount('Requests', {
      requestsPerTarget: props.targetRequestsPerTask ?? 1000,
      targetGroup: this.targetGroup,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });

    this.alarms = createGatewayAlarms(this, {
      ...props.alarms,
      loadBalancer: this.loadBalancer,
      targetGroup: this.targetGroup,
      service: this.service,
      dataPlaneName: name,
      syncInterval,
      topic: props.alarmTopic,
    });

    new CfnOutput(this, 'GatewayUrl', { value: this.url, description: 'Tollgate gateway URL: point the openai / portkey-ai SDK baseURL at <url>/v1' });
    if (this.logBucket) new CfnOutput(this, 'LogBucketName', { value: this.logBucket.bucketName });
  }

  /** Let a caller (security group, Lambda, instance…) reach the gateway ALB on its listener port. */
  grantConnect(caller: ec2.IConnectable): void {
    this.connections.allowDefaultPortFrom(caller, 'Tollgate gateway caller');
  }

  /**
   * Let `grantee` (an analyst role, a SIEM export) read the request logs: `s3:GetObject` on the log
   * objects and `kms:Decrypt` through S3. Undefined in `control-plane` log mode (there is no bucket).
   */
  grantReadLogs(grantee: iam.IGrantable): iam.Grant | undefined {
    if (!this.logBucket) return undefined;
    const objects = this.logBucket.arnForObjects(`${this.logPrefix}*`);
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [objects] });
    this.logBucket.encryptionKey?.grantDecrypt(grantee);
    if (Construct.isConstruct(grantee.grantPrincipal)) {
      acknowledge(grantee.grantPrincipal, 'Tollgate DataPlane.grantReadLogs: get on the request-log objects (keyed by org/workspace/date/log id) under the log prefix only.',
        iam5Resource(this, objects));
    }
    return grant;
  }
}
