/**
 * The Tollgate CDK app: `npx cdk synth` yields TollgateControlPlane and TollgateDataPlane, offline
 * (no context lookups). Context (cdk.json or `-c key=value`):
 *   tollgate:controlPlaneUrl      URL the data plane syncs from (default https://control-plane.example.com)
 *   tollgate:credentialSecretName secret holding the data-plane credential (default tollgate/data-plane-credential)
 *   tollgate:kmsKeyArn            organisation KMS key the gateway may decrypt with
 *   tollgate:byokKeyArn           customer key for the control plane (BYOK)
 *   tollgate:metricsStore         aurora | timestream
 *   tollgate:organisationKeyArns  comma-separated customer KMS keys organisations may name (per-org BYOK; default any key)
 *   tollgate:cognitoDomainPrefix  Cognito hosted-UI domain prefix (default derived from the stack)
 *   tollgate:handlersDir          folder of the control-plane Lambda entries (default runtime/control-plane/handlers)
 *   tollgate:nag                  run cdk-nag AwsSolutions checks (default true; "false" to skip)
 */
import { App, Validations } from 'aws-cdk-lib';
import { ControlPlaneStack, DataPlaneStack, type MetricsStore } from '../lib/index.js';

const app = new App();
const ctx = (key: string): string | undefined => app.node.tryGetContext(`tollgate:${key}`) ?? undefined;
const env = process.env.CDK_DEFAULT_ACCOUNT || process.env.CDK_DEFAULT_REGION
  ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
  : undefined;

new ControlPlaneStack(app, 'TollgateControlPlane', {
  env,
  description: 'Tollgate control plane (vendor account)',
  byokKeyArn: ctx('byokKeyArn'),
  metricsStore: (ctx('metricsStore') as MetricsStore | undefined) ?? 'aurora',
  organisationKeyArns: ctx('organisationKeyArns')?.split(',').map((a) => a.trim()).filter(Boolean),
  cognitoDomainPrefix: ctx('cognitoDomainPrefix'),
  handlersDir: ctx('handlersDir'),
});

new DataPlaneStack(app, 'TollgateDataPlane', {
  env,
  description: 'Tollgate data plane (customer account)',
  controlPlaneUrl: ctx('controlPlaneUrl') ?? 'https://control-plane.example.com',
  credentialSecretName: ctx('credentialSecretName'),
  kmsKeyArn: ctx('kmsKeyArn'),
});

if (String(ctx('nag') ?? 'true') !== 'false') {
  // cdk-nag is a dev dependency: loaded only when the checks run.
  const { AwsSolutionsChecks } = await import('cdk-nag');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

app.synth();
