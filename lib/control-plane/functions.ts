import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { join } from 'node:path';
import { acknowledge } from '../nag.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { ControlPlaneFunctionProps } from './props.js';

/**
 * Modules left out of the bundles: the AWS SDK v3 (provided by the Lambda runtime), pg's optional native
 * binding, and native addons that esbuild cannot bundle for another CPU (they must not be needed on Lambda;
 * see docs/deploy-aws.md).
 */
export const EXTERNAL_MODULES = ['@aws-sdk/*', 'pg-native'];

/** ESM bundles still load CJS dependencies that call `require`. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __tollgateCreateRequire } from 'node:module'; const require = __tollgateCreateRequire(import.meta.url);";

export interface TollgateFunctionOptions extends ControlPlaneFunctionProps {
  readonly entry: string;
  readonly description: string;
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly environment: Record<string, string>;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A control-plane Lambda: esbuild-bundled ESM (local esbuild, no Docker), ARM64, Node 22+, JSON logs,
 * X-Ray tracing, in the VPC's private subnets, with its own role and log group.
 */
export function tollgateFunction(scope: Construct, id: string, o: TollgateFunctionOptions): NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: o.removalPolicy,
  });
  const runtime = o.runtime ?? lambda.Runtime.NODEJS_24_X;
  const fn = new NodejsFunction(scope, id, {
    entry: o.entry,
    handler: 'handler',
    description: o.description,
    runtime,
    architecture: lambda.Architecture.ARM_64,
    memorySize: o.memorySize ?? 1024,
    timeout: o.timeout ?? Duration.seconds(29),
    tracing: lambda.Tracing.ACTIVE,
    loggingFormat: lambda.LoggingFormat.JSON,
    applicationLogLevelV2: lambda.ApplicationLogLevel[o.logLevel ?? 'INFO'],
    systemLogLevelV2: lambda.SystemLogLevel.INFO,
    logGroup,
    vpc: o.vpc,
    vpcSubnets: { subnets: o.vpc.privateSubnets },
    securityGroups: [o.securityGroup],
    environment: {
      NODE_OPTIONS: '--enable-source-maps',
      // Lambda's CA bundle includes the RDS CAs (TLS to Aurora / RDS Proxy).
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      ...o.environment,
    },
    projectRoot: PACKAGE_ROOT,
    depsLockFilePath: join(PACKAGE_ROOT, 'package-lock.json'),
    bundling: {
      format: OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: ESM_REQUIRE_BANNER,
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      externalModules: EXTERNAL_MODULES,
      forceDockerBundling: false,
    },
  });
  acknowledge(fn, 'AWS managed policies for Lambda logging and VPC ENIs (AWSLambdaBasicExecutionRole, AWSLambdaVPCAccessExecutionRole) are the documented least set for a VPC function.',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]');
  acknowledge(fn, 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (AWS requires Resource *).',
    'AwsSolutions-IAM5[Resource::*]');
  return fn;
}
