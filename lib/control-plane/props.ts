import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';

/** Where request metrics (analytics) are stored. */
export type MetricsStore = 'aurora' | 'timestream';

/** Aurora PostgreSQL Serverless v2 settings. */
export interface ControlPlaneDatabaseProps {
  /**
   * Minimum Aurora capacity units (0 lets the cluster auto-pause when idle).
   * @default 0.5
   */
  readonly minCapacity?: number;
  /**
   * Maximum Aurora capacity units.
   * @default 8
   */
  readonly maxCapacity?: number;
  /**
   * Serverless v2 readers in other AZs (failover targets).
   * @default 1
   */
  readonly readers?: number;
  /**
   * Automated backup retention.
   * @default Duration.days(14)
   */
  readonly backupRetention?: Duration;
  /**
   * Put an RDS Proxy (TLS required) between the Lambdas and the cluster.
   * @default true
   */
  readonly proxy?: boolean;
  /**
   * Days between automatic rotations of the master secret.
   * @default Duration.days(30)
   */
  readonly rotationInterval?: Duration;
  /**
   * Deletion protection on the cluster.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/** Settings shared by the API Lambda functions. */
export interface ControlPlaneFunctionProps {
  /**
   * Lambda runtime (Node.js 22 or later).
   * @default lambda.Runtime.NODEJS_24_X (the latest Node.js runtime)
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Memory (MiB).
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Timeout (API Gateway allows at most 30 s).
   * @default Duration.seconds(29)
   */
  readonly timeout?: Duration;
  /**
   * Application log level of the structured JSON logs.
   * @default 'INFO'
   */
  readonly logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
}

export interface ControlPlaneProps {
  /**
   * VPC of Aurora and the Lambdas. Needs private subnets with egress.
   * @default - a new VPC with 2 AZs, one NAT gateway, S3/DynamoDB endpoints and flow logs
   */
  readonly vpc?: ec2.IVpc;
  /**
   * NAT gateways of the new VPC (ignored with `vpc`).
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * Bring your own key: ARN of a customer-managed KMS key for envelope encryption of provider secrets.
   * The Lambdas get `kms:Encrypt`/`kms:GenerateDataKey` only, never `kms:Decrypt`; only the gateway can decrypt.
   * @default - a KMS key with rotation is created (and the Lambdas may also decrypt it)
   */
  readonly byokKeyArn?: string;
  /**
   * Per-organisation BYOK: the customer KMS keys organisations may name as their `kms_key_arn` (platform API).
   * The `virtual-keys` function gets `kms:GenerateDataKey`/`kms:Encrypt` (virtual-key encryption contexts only)
   * and `kms:DescribeKey` on them, never `kms:Decrypt`. The customer's key policy must also allow it
   * (docs/deploy-aws.md, "BYOK").
   * @default - any KMS key ARN (`arn:<partition>:kms:*:*:key/*`); each customer's key policy is then the gate
   */
  readonly organisationKeyArns?: string[];
  /**
   * AWS accounts whose data planes may decrypt with the created key (its key policy allows them `kms:Decrypt`;
   * each gateway task role then needs its own IAM grant). Ignored with `byokKeyArn`.
   * @default - none
   */
  readonly dataPlaneAccountIds?: string[];
  /**
   * Metrics store. `timestream` is opt-in: Timestream for LiveAnalytics closed to new customers on 2025-06-20.
   * @default 'aurora'
   */
  readonly metricsStore?: MetricsStore;
  /**
   * Aurora settings.
   * @default - Serverless v2 0.5-8 ACU, one reader, 14-day backups, RDS Proxy, 30-day rotation, deletion protection
   */
  readonly database?: ControlPlaneDatabaseProps;
  /**
   * Lambda settings.
   * @default - Node.js 24, ARM64, 1024 MiB, 29 s, INFO
   */
  readonly functions?: ControlPlaneFunctionProps;
  /**
   * Folder of the handler entries (`<name>.ts` exporting `handler`).
   * @default - runtime/control-plane/handlers of this package
   */
  readonly handlersDir?: string;
  /**
   * Run database migrations at deploy time (Trigger invoking `migrate.ts` after Aurora is up).
   * @default true
   */
  readonly runMigrations?: boolean;
  /**
   * Create the S3 log store (used when data planes run with logMode `control-plane`).
   * @default true
   */
  readonly logStore?: boolean;
  /**
   * Expiry of objects in the log store.
   * @default Duration.days(90)
   */
  readonly logRetention?: Duration;
  /**
   * Expiry of S3 / CloudFront / API access logs.
   * @default Duration.days(90)
   */
  readonly accessLogRetention?: Duration;
  /**
   * Folder of the built control-panel UI, uploaded to the UI bucket when it exists.
   * @default - runtime/ui/dist of this package
   */
  readonly uiAssetsDir?: string;
  /**
   * Custom domain of the UI/API distribution (needs `certificate`, issued in us-east-1).
   * @default - the CloudFront domain
   */
  readonly domainName?: string;
  /**
   * ACM certificate (us-east-1) for `domainName`.
   * @default - none
   */
  readonly certificate?: acm.ICertificate;
  /**
   * ARN of an existing WAFv2 web ACL (scope CLOUDFRONT) to attach to the distribution.
   * @default - no WAF unless `createWebAcl`
   */
  readonly webAclArn?: string;
  /**
   * Create a CLOUDFRONT-scope web ACL with AWS managed rules and a rate limit. The stack must be in us-east-1.
   * @default false
   */
  readonly createWebAcl?: boolean;
  /**
   * External OIDC issuer for UI login (e.g. `https://login.example.com`). When unset, a Cognito user pool is created.
   * @default - a Cognito user pool
   */
  readonly oidcIssuerUrl?: string;
  /**
   * Client id at `oidcIssuerUrl` (required with it).
   * @default - none
   */
  readonly oidcClientId?: string;
  /**
   * Secret holding the client secret at `oidcIssuerUrl`, for issuers that register the UI as a
   * confidential client (PKCE is used either way). Only the `auth` function may read it; it gets the
   * ARN (`TOLLGATE_OIDC_CLIENT_SECRET_ARN`) and loads the value at cold start.
   * @default - a public client (PKCE only, no client secret)
   */
  readonly oidcClientSecret?: secretsmanager.ISecret;
  /**
   * Organisation id that SSO users sign in to when their email belongs to users of several
   * organisations (`TOLLGATE_OIDC_ORGANISATION_ID`), e.g. a single-customer control plane.
   * @default - the organisation is chosen from the user's email
   */
  readonly oidcOrganisationId?: string;
  /**
   * Prefix of the Cognito hosted-UI domain (`<prefix>.auth.<region>.amazoncognito.com`), unique per region.
   * Ignored with `oidcIssuerUrl`.
   * @default - `tollgate-` followed by a name derived from the construct path
   */
  readonly cognitoDomainPrefix?: string;
  /**
   * Request rate limit per second of the HTTP API (steady state; burst is twice this).
   * @default 500
   */
  readonly apiRateLimit?: number;
  /**
   * Topic notified by the alarms.
   * @default - alarms have no actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * RemovalPolicy of stateful resources (key, buckets, table, log groups). Aurora always snapshots.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}
