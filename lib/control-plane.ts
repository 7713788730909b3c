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
import { createEnvelopeKey } from './control-plane/keys.js';
import { createMigrations } from './control-plane/migrations.js';
import type { ControlPlaneProps, MetricsStore } from './control-plane/props.js';
import { createRegistryTable, grantLogStore, LOG_STORE_DEFAULT_RETENTION, TimestreamMetricsStore } from './control-plane/storage.js';
import { ControlPlaneUi } from './control-plane/ui.js';
import { validateControlPlaneProps } from './control-plane/validate.js';
import { acknowledge, iam5Resource } from './nag.js';
import { DEFAULT_HANDLERS_DIR, DEFAULT_UI_ASSETS_DIR } from './paths.js';
import { createAccessLogsBucket, createDataBucket, createKey } from './shared/buckets.js';
import { createVpc } from './shared/network.js';

export * from './control-plane/props.js';

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

    this.vpc = props.vpc ?? createVpc(this, 'Vpc', props.natGateways ?? 1);
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
      TOLLGATE_KMS_BYOK: this.byok ? '1' : '0',
      TOLLGATE_REGISTRY_TABLE: this.registryTable.tableName,
      TOLLGATE_METRICS_STORE: this.metricsStore,
      ...(this.timestream ? { TOLLGATE_TIMESTREAM_DATABASE: this.timestream.databaseName, TOLLGATE_TIMESTREAM_TABLE: this.timestream.tableName } : {}),
      ...(this.logStore ? { TOLLGATE_LOG_STORE: 's3', TOLLGATE_LOG_BUCKET: this.logStore.bucketName } : {}),
    };
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
      oidcIssuerUrl: props.oidcIssuerUrl, oidcClientId: props.oidcClientId, uiUrl: this.ui.url, removalPolicy,
    });

    const fns = Object.values(this.functions);
    for (const fn of fns) {
      fn.addEnvironment('TOLLGATE_OIDC_ISSUER', this.auth.issuerUrl);
      fn.addEnvironment('TOLLGATE_OIDC_CLIENT_ID', this.auth.clientId);
      fn.addEnvironment('TOLLGATE_PUBLIC_URL', this.url);
    }
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

    // Least privilege, per function role: its database secret, the envelope key, the registry table, the stores.
    for (const fn of fns) {
      this.database.grantConnect(fn);
      envelope.grant(fn);
      this.registryTable.grantReadWriteData(fn);
      acknowledge(fn, 'aws-cdk-lib grants on the stack\'s own data key for DynamoDB and Secrets Manager (SSE with a customer-managed key) use kms:GenerateDataKey*/ReEncrypt*; the key is scoped to this control plane.',
        'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]');
      if (this.logStore) {
        grantLogStore(this.logStore, fn);
        acknowledge(fn, 'Log records are objects keyed by org/trace id: put/get on the log-store objects only.', iam5Resource(this, this.logStore.arnForObjects('*')));
      }
      if (this.timestream) {
        this.timestream.grantReadWrite(fn);
        // timestream:DescribeEndpoints has no resource-level permissions; covered by the Resource::* ack on the function.
      }
    }

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
