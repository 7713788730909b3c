import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cw from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { createControlPlaneAlarms } from './control-plane/alarms.js';
import { ControlPlaneApi } from './control-plane/api.js';
import { ControlPlaneAuth } from './control-plane/auth.js';
import { ControlPlaneDatabase } from './control-plane/database.js';
import { createEnvelopeKey, grantOrganisationKeys } from './control-plane/keys.js';
import { createMigrations } from './control-plane/migrations.js';
import type { ControlPlaneProps, MetricsStore } from './control-plane/props.js';
import { createRegistryTable, grantLogStore, LOG_STORE_DEFAULT_RETENTION, LOG_STORE_PREFIX, TimestreamMetricsStore } from './control-plane/storage.js';
import { ControlPlaneUi } from './control-plane/ui.js';
import { validateControlPlaneProps } from './control-plane/validate.js';
import { acknowledge, iam5Resource } from './nag.js';
import { DEFAULT_HANDLERS_DIR, DEFAULT_UI_ASSETS_DIR } from './paths.js';
import { createAccessLogsBucket, createDataBucket, createKey } from './shared/buckets.js';
import { createVpc } from './shared/network.js';

export * from './control-plane/props.js';

/** Cap of the `/v1/sync/wait` long poll (seconds); the `sync` function runs at least 29 s (API Gateway's limit is 30 s). */
export const SYNC_WAIT_SECONDS = 25;

/**
 * The Tollgate control plane, deployed by the vendor: HTTP API + Lambda handlers, Aurora PostgreSQL
 * Serverless v2, DynamoDB registry, metrics store, envelope KMS key (or BYOK), S3 log store, UI on
 * S3 + CloudFront, Cognito or external OIDC, alarms.
 */
export class ControlPlane extends Construct {
  readonly vpc: ec2.IVpc;
  /** Envelope key of provider secrets (created, or the customer's BYOK key). */
  readonly key: kms.IKey;
  /** True when `key` is the customer's own key. */
  readonly byok: boolean;
  /** Key of the control plane's own data at rest (Aurora, DynamoDB, S3, secrets, Timestream). */
  readonly dataKey: kms.Key;
  readonly database: ControlPlaneDatabase;
  readonly registryTable: dynamodb.Table;
  readonly logStore?: s3.Bucket;
  readonly metricsStore: MetricsStore;
  readonly timestream?: TimestreamMetricsStore;
  readonly api: ControlPlaneApi;
  readonly functions: Record<string, NodejsFunction>;
  readonly migrations?: NodejsFunction;
  readonly ui: ControlPlaneUi;
  readonly auth: ControlPlaneAuth;
  readonly alarms: cw.Alarm[];
  /** UI session signing key (Secrets Manager; `TOLLGATE_SESSION_SECRET_ARN`). */
  readonly sessionSecret: secretsmanager.Secret;
  /** Vendor platform-admin API key (Secrets Manager; `TOLLGATE_PLATFORM_ADMIN_KEY_ARN`, `platform` handler only). */
  readonly platformAdminSecret: secretsmanager.Secret;
  /** Base URL of the API through CloudFront (`<url>/v1/...`); data planes use it as `controlPlaneUrl`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ControlPlaneProps = {}) {
    super(scope, id);
    validateControlPlaneProps(this, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const handlersDir = props.handlersDir ?? DEFAULT_HANDLERS_DIR;
    this.metricsStore = props.metricsStore ?? 'aurora';

    this.vpc = props.vpc ?? createVpc(this, 'Vpc', props.natGateways ?? 1, removalPolicy);
    this.dataKey = createKey(this, 'DataKey', 'Tollgate control plane data at rest (Aurora, DynamoDB, S3, Timestream)', removalPolicy);
    const envelope = createEnvelopeKey(this, { byokKeyArn: props.byokKeyArn, dataPlaneAccountIds: props.dataPlaneAccountIds, removalPolicy });
    this.key = envelope.key;
    this.byok = envelope.byok;
    const accessLogs = createAccessLogsBucket(this, 'AccessLogs', props.accessLogRetention ?? Duration.days(90), removalPolicy);

    this.database = new ControlPlaneDatabase(this, 'Database', { ...props.database, vpc: this.vpc, key: this.dataKey });
    this.registryTable = createRegistryTable(this, this.dataKey, removalPolicy);
    if (props.logStore ?? true) {
      this.logStore = createDataBucket(this, 'LogStore', {
        key: this.dataKey, accessLogs, accessLogsPrefix: 'log-store/', retention: props.logRetention ?? LOG_STORE_DEFAULT_RETENTION, removalPolicy,
      });
    }
    if (this.metricsStore === 'timestream') this.timestream = new TimestreamMetricsStore(this, 'Metrics', this.dataKey, removalPolicy);

    // The UI URL is needed by the Cognito client before the distribution exists: build the API first,
    // then the distribution, then auth; the functions read auth settings from env set afterwards.
    const environment: Record<string, string> = {
      TOLLGATE_DB_SECRET_ARN: this.database.secret.secretArn,
      TOLLGATE_DB_HOST: this.database.host,
      TOLLGATE_SKIP_MIGRATIONS: '1',
      TOLLGATE_DB_POOL_MAX: '2',
      TOLLGATE_KMS_KEY_ARN: this.key.keyArn,
    };
    // Settings only some handlers need are added per function below, with their grants.
    this.api = new ControlPlaneApi(this, 'Api', {
      vpc: this.vpc,
      handlersDir,
      functions: props.functions ?? {},
      environment,
      rateLimit: props.apiRateLimit ?? 500,
      removalPolicy,
    });
    this.functions = this.api.functions;

    const stack = Stack.of(this);
    this.ui = new ControlPlaneUi(this, 'Ui', {
      apiEndpoint: this.api.httpApi.apiEndpoint,
      accessLogs,
      assetsDir: props.uiAssetsDir ?? DEFAULT_UI_ASSETS_DIR,
      domainName: props.domainName,
      certificate: props.certificate,
      webAclArn: props.webAclArn,
      createWebAcl: props.createWebAcl,
      connectSources: props.oidcIssuerUrl
        ? [new URL(props.oidcIssuerUrl).origin]
        : [`https://cognito-idp.${stack.region}.amazonaws.com`, `https://*.auth.${stack.region}.amazoncognito.com`],
      removalPolicy,
    });
    this.url = this.ui.url;
    this.auth = new ControlPlaneAuth(this, 'Auth', {
      oidcIssuerUrl: props.oidcIssuerUrl, oidcClientId: props.oidcClientId, cognitoDomainPrefix: props.cognitoDomainPrefix, uiUrl: this.ui.url, removalPolicy,
    });

    const fns = Object.values(this.functions);
    if (props.runMigrations ?? true) {
      this.migrations = createMigrations(this, handlersDir, {
        ...props.functions,
        vpc: this.vpc,
        securityGroup: this.api.securityGroup,
        environment: { ...environment, TOLLGATE_SKIP_MIGRATIONS: '0' },
        removalPolicy,
      }, [this.database.cluster, ...(this.database.proxy ? [this.database.proxy] : [])]);
      fns.push(this.migrations);
    }

    // Secrets the handlers load at cold start (by ARN, so no secret value sits in the Lambda configuration).
    this.sessionSecret = new secretsmanager.Secret(this, 'SessionSecret', {
      description: 'Tollgate control panel: UI session signing key',
      encryptionKey: this.dataKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy,
    });
    this.platformAdminSecret = new secretsmanager.Secret(this, 'PlatformAdminKey', {
      description: 'Tollgate platform admin API key (vendor: onboard and manage organisations)',
      encryptionKey: this.dataKey,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy,
    });
    for (const secret of [this.sessionSecret, this.platformAdminSecret]) {
      acknowledge(secret, 'A static random key, rotated on demand (put a new value; the functions read it at cold start). A rotation Lambda would only sign users out or cut off the vendor admin on a schedule.',
        'AwsSolutions-SMG4');
    }
    for (const [name, fn] of Object.entries(this.functions)) {
      fn.addEnvironment('TOLLGATE_SESSION_SECRET_ARN', this.sessionSecret.secretArn);
      this.sessionSecret.grantRead(fn);
      if (name === 'platform') {
        fn.addEnvironment('TOLLGATE_PLATFORM_ADMIN_KEY_ARN', this.platformAdminSecret.secretArn);
        this.platformAdminSecret.grantRead(fn);
      }
    }

    // Least privilege, per function role: every function its database secret and the envelope key ...
    for (const fn of fns) {
      this.database.grantConnect(fn);
      envelope.grant(fn);
    }
    // ... and only the handlers that use them the registry, the stores, login settings and customer keys.
    this.wireHandlers(props);

    this.alarms = createControlPlaneAlarms(this, {
      api: this.api.httpApi, functions: this.functions, cluster: this.database.cluster, topic: props.alarmTopic,
    });

    new CfnOutput(this, 'ControlPlaneUrl', { value: this.url, description: 'UI and API (API under /v1); use as the DataPlane controlPlaneUrl' });
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Direct HTTP API URL' });
    new CfnOutput(this, 'KeyArn', { value: this.key.keyArn, description: 'Envelope KMS key: pass to DataPlane kmsKeyArn' });
    new CfnOutput(this, 'RegistryTableName', { value: this.registryTable.tableName });
    new CfnOutput(this, 'DatabaseSecretArn', { value: this.database.secret.secretArn });
    new CfnOutput(this, 'OidcIssuer', { value: this.auth.issuerUrl });
    new CfnOutput(this, 'OidcClientId', { value: this.auth.clientId });
    if (this.logStore) new CfnOutput(this, 'LogStoreBucket', { value: this.logStore.bucketName });
    new CfnOutput(this, 'PlatformAdminKeySecretArn', { value: this.platformAdminSecret.secretArn, description: 'Secret holding the platform admin API key (onboarding organisations)' });
    new CfnOutput(this, 'OidcRedirectUri', { value: this.auth.redirectUri, description: 'OIDC redirect URI: register it at an external issuer (Cognito has it already)' });
  }

  /**
   * The env and grants of single handlers (runtime names in comments):
   * - `sync` (heartbeats: UpdateItem, `TOLLGATE_SYNC_WAIT_SECONDS`) and `data-planes` (list: Query): `TOLLGATE_REGISTRY_TABLE`;
   * - `ingest`: `TOLLGATE_CP_LOG_BUCKET`/`_PREFIX` (put), `TOLLGATE_METRICS_STORE` (+ Timestream names, write);
   * - `analytics`: with Timestream, `TOLLGATE_METRICS_STORE` (+ Timestream names, Select);
   * - `logs`: `TOLLGATE_CP_LOG_BUCKET`/`_PREFIX` (get);
   * - `auth`: `TOLLGATE_OIDC_ISSUER`, `_CLIENT_ID`, `_REDIRECT_URI`, `_POST_LOGIN_URL` (+ `_CLIENT_SECRET_ARN`, `_ORGANISATION_ID`);
   * - `virtual-keys`: seal with organisations' own keys (per-org BYOK; never kms:Decrypt).
   */
  private wireHandlers(props: ControlPlaneProps): void {
    const fn = (name: string): NodejsFunction => {
      const found = this.functions[name];
      if (!found) throw new Error(`ControlPlane: no '${name}' handler in runtime/control-plane/routes.ts`);
      return found;
    };
    // Exactly the registry calls (runtime/adapters/dynamodb-registry.ts) and the table key use they need.
    const sync = fn('sync');
    sync.addEnvironment('TOLLGATE_REGISTRY_TABLE', this.registryTable.tableName);
    sync.addEnvironment('TOLLGATE_SYNC_WAIT_SECONDS', String(SYNC_WAIT_SECONDS));
    this.registryTable.grant(sync, 'dynamodb:UpdateItem');
    this.dataKey.grant(sync, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey');
    const dataPlanes = fn('data-planes');
    dataPlanes.addEnvironment('TOLLGATE_REGISTRY_TABLE', this.registryTable.tableName);
    this.registryTable.grant(dataPlanes, 'dynamodb:Query');
    this.dataKey.grant(dataPlanes, 'kms:Decrypt', 'kms:DescribeKey');

    const ingest = fn('ingest');
    const logs = fn('logs');
    if (this.logStore) {
      for (const [f, access] of [[ingest, 'write'], [logs, 'read']] as const) {
        f.addEnvironment('TOLLGATE_CP_LOG_BUCKET', this.logStore.bucketName);
        f.addEnvironment('TOLLGATE_CP_LOG_PREFIX', LOG_STORE_PREFIX);
        grantLogStore(this.logStore, f, access);
        acknowledge(f, 'Log records are objects keyed by org/trace id under one prefix: put (ingest) or get (logs) on those objects only.',
          iam5Resource(this, this.logStore.arnForObjects(`${LOG_STORE_PREFIX}*`)));
      }
    }
    ingest.addEnvironment('TOLLGATE_METRICS_STORE', this.timestream ? 'timestream' : 'postgres');
    if (this.timestream) {
      ingest.addEnvironment('TOLLGATE_TIMESTREAM_DATABASE', this.timestream.databaseName);
      ingest.addEnvironment('TOLLGATE_TIMESTREAM_TABLE', this.timestream.tableName);
      // timestream:DescribeEndpoints has no resource-level permissions; covered by the Resource::* ack on the function.
      this.timestream.grantWrite(ingest);
      // Graphs and groups are then read from Timestream (feedback, log search and exports stay on Aurora).
      const analytics = fn('analytics');
      analytics.addEnvironment('TOLLGATE_METRICS_STORE', 'timestream');
      analytics.addEnvironment('TOLLGATE_TIMESTREAM_DATABASE', this.timestream.databaseName);
      analytics.addEnvironment('TOLLGATE_TIMESTREAM_TABLE', this.timestream.tableName);
      this.timestream.grantRead(analytics);
    }

    const auth = fn('auth');
    auth.addEnvironment('TOLLGATE_OIDC_ISSUER', this.auth.issuerUrl);
    auth.addEnvironment('TOLLGATE_OIDC_CLIENT_ID', this.auth.clientId);
    auth.addEnvironment('TOLLGATE_OIDC_REDIRECT_URI', this.auth.redirectUri);
    auth.addEnvironment('TOLLGATE_OIDC_POST_LOGIN_URL', this.auth.postLoginUrl);
    if (props.oidcClientSecret) {
      auth.addEnvironment('TOLLGATE_OIDC_CLIENT_SECRET_ARN', props.oidcClientSecret.secretArn);
      props.oidcClientSecret.grantRead(auth);
    }
    if (props.oidcOrganisationId) auth.addEnvironment('TOLLGATE_OIDC_ORGANISATION_ID', props.oidcOrganisationId);

    const virtualKeys = fn('virtual-keys');
    grantOrganisationKeys(this, virtualKeys, props.organisationKeyArns);
    if (!props.organisationKeyArns?.length) {
      acknowledge(virtualKeys, 'Per-organisation BYOK keys are named at run time (platform API), in customer accounts: the grant is seal-only (GenerateDataKey/Encrypt for virtual-key encryption contexts, DescribeKey), never Decrypt, and each customer\'s key policy decides whether it applies. Pass organisationKeyArns to pin the keys.',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:*:*:key/*]');
    }
  }
}

export interface ControlPlaneStackProps extends StackProps, ControlPlaneProps {}

/** A stack holding one `ControlPlane` (the vendor's deployment unit). */
export class ControlPlaneStack extends Stack {
  readonly controlPlane: ControlPlane;

  constructor(scope: Construct, id: string, props: ControlPlaneStackProps = {}) {
    super(scope, id, props);
    this.controlPlane = new ControlPlane(this, 'ControlPlane', props);
  }
}
