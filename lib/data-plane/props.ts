import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';

/** Where the gateway keeps request logs. */
export type LogMode = 'customer' | 'control-plane';

/** ElastiCache engine for the gateway cache. */
export type CacheEngine = 'valkey' | 'redis';

/** Settings of the ElastiCache replication group. */
export interface DataPlaneCacheProps {
  /**
   * Engine of the replication group.
   * @default 'valkey'
   */
  readonly engine?: CacheEngine;
  /**
   * Engine version.
   * @default '8.0' for valkey, '7.1' for redis
   */
  readonly engineVersion?: string;
  /**
   * Node type.
   * @default 'cache.t4g.small'
   */
  readonly nodeType?: string;
  /**
   * Multi-AZ with automatic failover (one primary and one replica in another AZ).
   * @default true
   */
  readonly multiAz?: boolean;
  /**
   * Number of nodes (primary + replicas). Must be at least 2 when `multiAz` is true.
   * @default 2 when multiAz, otherwise 1
   */
  readonly nodes?: number;
  /**
   * Port the cache listens on.
   * @default 6380
   */
  readonly port?: number;
  /**
   * Days of automatic snapshots kept (0 disables snapshots).
   * @default 1
   */
  readonly snapshotRetentionDays?: number;
  /**
   * How the gateway tasks authenticate to the cache. `token`: an AUTH token kept in Secrets
   * Manager. `iam`: an ElastiCache IAM user in a user group, short-lived tokens signed with the
   * task role (no long-lived secret; the task role gets `elasticache:Connect`).
   * @default 'token'
   */
  readonly authentication?: CacheAuthentication;
  /**
   * Cluster mode (data sharded across node groups) with this many shards; each shard has
   * `nodes - 1` replicas. The gateway connects through the configuration endpoint.
   * @default - cluster mode disabled (one shard)
   */
  readonly shards?: number;
}

/** How the gateway authenticates to ElastiCache. */
export type CacheAuthentication = 'token' | 'iam';

/** Thresholds of the CloudWatch alarms. */
export interface DataPlaneAlarmProps {
  /**
   * ALB + target 5xx responses per minute that raise the 5xx alarm.
   * @default 10
   */
  readonly http5xxPerMinute?: number;
  /**
   * p99 target response time (time to first byte from the gateway) that raises the latency alarm.
   * LLM calls are slow, so the default is generous.
   * @default Duration.seconds(30)
   */
  readonly p99Latency?: Duration;
  /**
   * Average service CPU utilisation (%) that raises the CPU alarm.
   * @default 85
   */
  readonly cpuPercent?: number;
  /**
   * Average service memory utilisation (%) that raises the memory alarm.
   * @default 85
   */
  readonly memoryPercent?: number;
  /**
   * Maximum age of the last successful sync (custom metric `Tollgate/SyncAgeSeconds`) before the sync alarm.
   * @default three sync intervals
   */
  readonly maxSyncAge?: Duration;
}

export interface DataPlaneProps {
  /** HTTPS URL of the Tollgate control plane, e.g. `https://api.tollgate.example.com`. */
  readonly controlPlaneUrl: string;
  /** Secrets Manager secret holding the data-plane credential issued by the control plane. */
  readonly credentialSecret: secretsmanager.ISecret;
  /**
   * JSON field of `credentialSecret` holding the token.
   * @default - the whole secret string is the token
   */
  readonly credentialSecretField?: string;
  /**
   * ARN of the organisation's KMS key (the ControlPlane `KeyArn` output, or your BYOK key). The gateway
   * task role gets `kms:Decrypt` on this key only, and the gateway uses it as its keyring.
   * @default - no KMS permission and no keyring (synth warns); the gateway cannot decrypt virtual keys
   */
  readonly kmsKeyArn?: string;
  /**
   * Name of this data plane, used as the `DataPlane` dimension of the gateway's custom metrics.
   * @default - the construct path
   */
  readonly name?: string;

  // Network
  /**
   * VPC to run in. Needs private subnets with egress (NAT) for ECR, the control plane and LLM providers.
   * @default - a new VPC with 2 AZs, public + private subnets, one NAT gateway and flow logs
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of the gateway tasks and the cache.
   * @default - private subnets with egress
   */
  readonly serviceSubnets?: ec2.SubnetSelection;
  /**
   * Number of NAT gateways of the new VPC (ignored with `vpc`).
   * @default 1
   */
  readonly natGateways?: number;

  // Service
  /**
   * Gateway image. Pin a released image with `ecs.ContainerImage.fromRegistry('…/tollgate-gateway:0.1.0')`.
   * @default - built from the package's own Dockerfile as a CDK asset (linux/arm64)
   */
  readonly image?: ecs.ContainerImage;
  /**
   * CPU architecture of the tasks; must match the image.
   * @default ecs.CpuArchitecture.ARM64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /**
   * Task CPU units.
   * @default 1024
   */
  readonly cpu?: number;
  /**
   * Task memory (MiB).
   * @default 2048
   */
  readonly memoryMiB?: number;
  /**
   * Initial number of tasks.
   * @default - minCapacity
   */
  readonly desiredCount?: number;
  /**
   * Autoscaling floor.
   * @default 2
   */
  readonly minCapacity?: number;
  /**
   * Autoscaling ceiling.
   * @default 10
   */
  readonly maxCapacity?: number;
  /**
   * Target average CPU utilisation (%) for autoscaling.
   * @default 60
   */
  readonly targetCpuPercent?: number;
  /**
   * Target ALB requests per task per minute for autoscaling.
   * @default 1000
   */
  readonly targetRequestsPerTask?: number;
  /**
   * Time a draining task keeps serving in-flight requests (ALB deregistration delay; the container
   * stop timeout is this plus 10 s so SIGTERM handling can finish streams).
   * @default Duration.seconds(60)
   */
  readonly drainTimeout?: Duration;
  /**
   * Heartbeat interval of the sync with the control plane.
   * @default Duration.seconds(30)
   */
  readonly syncInterval?: Duration;
  /**
   * Hosts allowed as `custom_host` targets (outside dev mode only allowlisted hosts are accepted).
   * @default - none
   */
  readonly customHostAllowlist?: string[];
  /**
   * Extra environment variables of the gateway container (non-secret).
   * @default - none
   */
  readonly environment?: Record<string, string>;

  // Load balancer
  /**
   * Make the ALB internet-facing.
   * @default false (internal)
   */
  readonly publicLoadBalancer?: boolean;
  /**
   * ACM certificate: the ALB listens on HTTPS 443 and redirects HTTP 80 to it.
   * @default - HTTP on port 80 (allowed only on an internal ALB unless `allowInsecurePublicHttp`)
   */
  readonly certificate?: acm.ICertificate;
  /**
   * DNS name that points at the ALB (matching `certificate`); used for the `GatewayUrl` output.
   * @default - the ALB's own DNS name
   */
  readonly domainName?: string;
  /**
   * Explicitly allow a public ALB that serves plain HTTP (no certificate). Not recommended.
   * @default false
   */
  readonly allowInsecurePublicHttp?: boolean;
  /**
   * CIDR ranges allowed to call the ALB. Use `grantConnect()` / `connections` for security groups.
   * @default - the VPC CIDR for an internal ALB, 0.0.0.0/0 for a public one
   */
  readonly allowedCidrs?: string[];
  /**
   * Idle timeout of the ALB (must outlast long streamed completions).
   * @default Duration.seconds(300)
   */
  readonly idleTimeout?: Duration;

  // Cache
  /**
   * ElastiCache settings.
   * @default - Valkey 8, cache.t4g.small, Multi-AZ, TLS, KMS at rest, AUTH token in Secrets Manager
   */
  readonly cache?: DataPlaneCacheProps;

  // Logs
  /**
   * Where request logs go: `customer` keeps them in an S3 bucket of this account; `control-plane`
   * sends them (encrypted) to the control plane.
   * @default 'customer'
   */
  readonly logMode?: LogMode;
  /**
   * Existing log bucket for `customer` mode.
   * @default - a new KMS-encrypted bucket (customer mode only)
   */
  readonly logBucket?: s3.IBucket;
  /**
   * Days before request logs in the new log bucket expire.
   * @default Duration.days(90)
   */
  readonly logRetention?: Duration;
  /**
   * Days before ALB / S3 access logs expire.
   * @default Duration.days(90)
   */
  readonly accessLogRetention?: Duration;

  // Alarms
  /**
   * Topic notified when an alarm changes to ALARM or back to OK.
   * @default - alarms have no actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Alarm thresholds.
   * @default - see DataPlaneAlarmProps
   */
  readonly alarms?: DataPlaneAlarmProps;
  /**
   * RemovalPolicy of the stateful resources (log buckets, KMS key, secrets).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}
