import { Duration } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as triggers from 'aws-cdk-lib/triggers';
import type { Construct, IConstruct } from 'constructs';
import { acknowledge } from '../nag.js';
import { handlerEntry } from '../paths.js';
import { tollgateFunction, type TollgateFunctionOptions } from './functions.js';

/**
 * Database migrations at deploy time: `migrate.ts` runs through a CDK Trigger after Aurora (and the proxy)
 * exist, and again whenever its code changes. A failed migration fails the deployment.
 */
export function createMigrations(
  scope: Construct,
  handlersDir: string,
  options: Omit<TollgateFunctionOptions, 'entry' | 'description'>,
  after: IConstruct[],
): NodejsFunction {
  const fn = tollgateFunction(scope, 'Migrate', {
    ...options,
    entry: handlerEntry(handlersDir, 'migrate'),
    description: 'Tollgate control plane: database migrations (deploy-time trigger)',
    // Lambda's maximum: migrations that backfill rollups from existing metrics (68, 69) take minutes on a large table.
    timeout: Duration.minutes(15),
  });
  const trigger = new triggers.Trigger(scope, 'MigrateTrigger', {
    handler: fn,
    executeAfter: after,
    executeOnHandlerChange: true,
    timeout: Duration.minutes(15),
  });
  acknowledge(trigger, 'CDK Trigger provider (framework code): its runtime and AWSLambdaBasicExecutionRole are managed by aws-cdk-lib.',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'AwsSolutions-L1');
  return fn;
}
