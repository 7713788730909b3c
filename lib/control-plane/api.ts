import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { controlPlaneHandlers, controlPlaneRoutes } from '../../runtime/control-plane/routes.js';
import { acknowledge } from '../nag.js';
import { handlerEntry } from '../paths.js';
import { tollgateFunction } from './functions.js';
import type { ControlPlaneFunctionProps } from './props.js';

export interface ControlPlaneApiProps {
  readonly vpc: ec2.IVpc;
  readonly handlersDir: string;
  readonly functions: ControlPlaneFunctionProps;
  readonly environment: Record<string, string>;
  readonly rateLimit: number;
  readonly removalPolicy: RemovalPolicy;
}

/** Minimum timeout of the `sync` function (seconds). */
export const SYNC_MIN_TIMEOUT_SECONDS = 29;

/** HTTP API with one NodejsFunction per handler of `controlPlaneHandlers`, routed by `controlPlaneRoutes`. */
export class ControlPlaneApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  /** One function per handler name. */
  readonly functions: Record<string, NodejsFunction> = {};
  /** Security group of the API functions (HTTPS and Postgres out only). */
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: ControlPlaneApiProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
      vpc: props.vpc,
      description: 'Tollgate control-plane Lambdas: HTTPS (AWS APIs) and Postgres out only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs (KMS, Secrets Manager, DynamoDB, S3)');

    this.httpApi = new apigwv2.HttpApi(this, 'Http', {
      description: 'Tollgate control-plane API (Portkey Admin API compatible)',
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: props.removalPolicy,
    });
    this.stage = this.httpApi.addStage('Stage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.rateLimit * 2 },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: false, ip: true, user: false, requestTime: true, httpMethod: true,
          resourcePath: true, status: true, protocol: true, responseLength: true,
        }),
      },
    });

    const integrations = new Map<string, HttpLambdaIntegration>();
    for (const name of controlPlaneHandlers) {
      const fn = tollgateFunction(this, pascal(name), {
        ...props.functions,
        // The /v1/sync/wait long poll holds a request up to 25 s: the sync function never runs shorter than 29 s.
        ...(name === 'sync' ? { timeout: Duration.seconds(Math.max(SYNC_MIN_TIMEOUT_SECONDS, props.functions.timeout?.toSeconds() ?? 0)) } : {}),
        entry: handlerEntry(props.handlersDir, name),
        description: `Tollgate control plane: ${name}`,
        vpc: props.vpc,
        securityGroup: this.securityGroup,
        environment: props.environment,
        removalPolicy: props.removalPolicy,
      });
      this.functions[name] = fn;
      integrations.set(name, new HttpLambdaIntegration(`${pascal(name)}Integration`, fn));
    }
    for (const route of controlPlaneRoutes) {
      const [method, path] = route.routeKey.split(' ') as [string, string];
      // The route key itself is the id ('/' is not allowed in ids): `users-requests` and `users/requests` stay distinct.
      new apigwv2.HttpRoute(this, `Route ${route.routeKey.replace(/\//g, '|')}`, {
        httpApi: this.httpApi,
        routeKey: apigwv2.HttpRouteKey.with(path, method as apigwv2.HttpMethod),
        integration: integrations.get(route.handler)!,
      });
    }
    acknowledge(this,
      'Routes authenticate in the handler with the Portkey-compatible x-portkey-api-key header (hashed API keys / data-plane credentials), which API Gateway authorizers cannot verify against the database without an extra Lambda hop per call.',
      'AwsSolutions-APIG4');
  }

  /** The HTTP API base URL. */
  get url(): string {
    return this.stage.url;
  }
}

function pascal(s: string): string {
  return s.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}
