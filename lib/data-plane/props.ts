import type { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
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
  /**
   * Size bound of each gateway process's in-process layer in front of the cache
   * (`TOLLGATE_CACHE_LOCAL_MAX_BYTES`; `Size.bytes(0)` turns the layer off). Count it once per
   * worker when sizing `memoryMiB`.
   * @default Size.mebibytes(64)
   */
  readonly localMaxSize?: Size;
  /**
   * How long the in-process layer keeps an entry before asking the cache again (`TOLLGATE_CACHE_LOCAL_TTL_SECONDS`).
   * @default Duration.seconds(30)
   */
  readonly localTtl?: Duration;
}

/** What a gateway task does with a rate limit while the cache (Redis) is unreachable. */
export type RateLimitOnCacheDown = 'local' | 'open' | 'closed';

/** Shared rate limits and budgets (kept in the cache by every task). */
export interface DataPlaneLimitsProps {
  /**
   * While the cache is unreachable: `local` enforces each limit per process (its share is
   * `localFraction`), `open` lets requests through, `closed` refuses them (`TOLLGATE_RATE_LIMIT_ON_REDIS_DOWN`).
   * @default 'local'
   */
  readonly onCacheDown?: RateLimitOnCacheDown;
  /**
   * Share of a limit each gateway process enforces on its own while the cache is down, in (0, 1]
   * (`TOLLGATE_RATE_LIMIT_LOCAL_FRACTION`). 1 means every process allows the whole limit.
   * @default 1
   */
  readonly localFraction?: number;
  /**
   * Secret holding the URL that budget alert and exhaustion events are POSTed to (webhook URLs often
   * carry a token, so it is injected from Secrets Manager as `TOLLGATE_BUDGET_ALERT_WEBHOOK`).
   * @default - no webhook
   */
  readonly budgetAlertWebhook?: secretsmanager.ISecret;
}

/** OpenTelemetry trace export: one span per gateway request, over OTLP/HTTP (standard `OTEL_*` variables). */
export interface DataPlaneTracingProps {
  /**
   * OTLP/HTTP traces URL of the collector (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), e.g.
   * `http://localhost:4318/v1/traces` for a collector sidecar you add to `taskDefinition`, or
   * `https://otlp.example.com/v1/traces`. The gateway tasks may reach its port (egress rule).
   */
  readonly endpoint: string;
  /**
   * Secret holding the collector headers as `key1=value1,key2=value2` (`OTEL_EXPORTER_OTLP_TRACES_HEADERS`),
   * e.g. a vendor API key; injected from Secrets Manager.
   * @default - no headers
   */
  readonly headers?: secretsmanager.ISecret;
  /**
   * Share of traces started at the gateway that are sampled, 0-1 (`OTEL_TRACES_SAMPLER_ARG`); a
   * caller's sampled `traceparent` wins.
   * @default 1
   */
  readonly sampleRatio?: number;
  /**
   * The `service.name` of the spans (`OTEL_SERVICE_NAME`).
   * @default 'tollgate-gateway'
   */
  readonly serviceName?: string;
}

/** Metrics and request-log delivery from the gateway to the control plane. */
export interface DataPlaneTelemetryProps {
  /**
   * Send metric records and logs at all (`TOLLGATE_TELEMETRY=off` when false: no analytics, no logs).
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Bound of the on-disk spool that holds undeliverable batches, shared by metrics and logs, per gateway
   * process (`TOLLGATE_SPOOL_MAX_BYTES`). The spool lives on the task's ephemeral storage
   * (`TOLLGATE_SPOOL_DIR`): it survives a control-plane outage and a worker restart, not the task's replacement.
   * @default Size.mebibytes(100)
   */
  readonly spoolMaxSize?: Size;
  /**
   * How often batches are sent (`TOLLGATE_TELEMETRY_FLUSH_MS`).
   * @default Duration.seconds(3)
   */
  readonly flushInterval?: Duration;
  /**
   * Records that trigger a send before the interval (`TOLLGATE_TELEMETRY_BATCH_SIZE`).
   * @default 500
   */
  readonly batchSize?: number;
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
   * Keys the organisation used before `kmsKeyArn` (after moving to a new key): the gateway still
   * decrypts virtual keys sealed with them (`TOLLGATE_KMS_PREVIOUS_KEY_ARNS`), and the task role gets
   * `kms:Decrypt` on each of them too. Needs `kmsKeyArn`.
   * @default - none
   */
  readonly previousKmsKeyArns?: string[];
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
   * Time a draining task keeps serving in-flight requests: the ALB deregistration delay, then again
   * after SIGTERM the gateway's own drain (`TOLLGATE_DRAIN_TIMEOUT`); the container stop timeout is
   * this plus 10 s, so telemetry is flushed before SIGKILL.
   * @default Duration.seconds(60)
   */
  readonly drainTimeout?: Duration;
  /**
   * Heartbeat interval of the sync with the control plane.
   * @default Duration.seconds(30)
   */
  readonly syncInterval?: Duration;
  /**
   * Make `/v1/health` answer 503 (so the ALB replaces the task) when the gateway's state is older than
   * this (`TOLLGATE_MAX_SYNC_AGE`). Off by default: static stability says keep serving the last good
   * state through a control-plane outage; the SyncAge alarm tells you about it.
   * @default - no limit (health stays 200 while the control plane is unreachable)
   */
  readonly healthMaxSyncAge?: Duration;
  /**
   * URL the control plane uses to fetch `customer`-mode request logs from this gateway
   * (`TOLLGATE_GATEWAY_PUBLIC_URL`, reported with each metrics batch). The control plane must be able
   * to reach it over HTTPS (docs/deploy-aws.md, "Logs").
   * @default - `url` (the `GatewayUrl` output: `domainName`, else the ALB DNS name)
   */
  readonly gatewayPublicUrl?: string;
  /**
   * Rate-limit and budget behaviour.
   * @default - limits enforced per process while the cache is down, no budget webhook
   */
  readonly limits?: DataPlaneLimitsProps;
  /**
   * Metrics and log delivery.
   * @default - on, 100 MiB disk spool per process, 3 s / 500-record batches
   */
  readonly telemetry?: DataPlaneTelemetryProps;
  /**
   * Export OpenTelemetry traces of gateway requests to a collector.
   * @default - no trace export
   */
  readonly tracing?: DataPlaneTracingProps;
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
   * Key prefix of the request logs in the log bucket (`TOLLGATE_LOG_PREFIX`); the task role's
   * put/get grant is limited to it. Useful with a shared `logBucket`.
   * @default - the bucket root
   */
  readonly logPrefix?: string;
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
