import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { expect, it } from 'vitest';
// What a consumer writes: the package by its name, resolved through package.json "exports" (→ lib/index.ts).
import { ControlPlane, DataPlane } from 'tollgate';
import * as local from '../../lib/index.js';
import { HANDLERS_DIR, NO_BUNDLING_CONTEXT, realHandlersPresent } from './helpers.js';

it('a consumer app synthesizes both constructs with minimal props', () => {
  // Bundling is proven in control-plane.test.ts; here it is switched off to keep the suite fast.
  const app = new App({ context: { [NO_BUNDLING_CONTEXT]: [] } });
  const vendor = new Stack(app, 'Vendor');
  // No props at all once the package's own handlers exist (stand-ins only before that).
  const controlPlane = new ControlPlane(vendor, 'Tollgate', realHandlersPresent ? undefined : { handlersDir: HANDLERS_DIR });
  const customer = new Stack(app, 'Customer');
  const credentialSecret = secretsmanager.Secret.fromSecretNameV2(customer, 'Cred', 'tollgate/data-plane-credential');
  new DataPlane(customer, 'Gateway', { controlPlaneUrl: 'https://api.tollgate.example.com', credentialSecret });

  const assembly = app.synth();
  expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['Customer', 'Vendor']);
  Template.fromStack(customer).resourceCountIs('AWS::ECS::Service', 1);
  Template.fromStack(customer).resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
  Template.fromStack(vendor).resourceCountIs('AWS::RDS::DBCluster', 1);
  expect(controlPlane.url).toBeDefined();
  expect(realHandlersPresent).toBe(true);
  // The name resolves to this package's entry point, not to some other copy.
  expect(DataPlane).toBe(local.DataPlane);
  expect(ControlPlane).toBe(local.ControlPlane);
});
