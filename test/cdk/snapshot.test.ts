import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ControlPlaneStack, DataPlaneStack } from '../../lib/index.js';
import { join } from 'node:path';
import { UI_FIXTURE_DIR, HANDLERS_DIR, NO_BUNDLING_CONTEXT, normalisedTemplate, PINNED_IMAGE } from './helpers.js';

// One snapshot per stack, as bin/app.ts builds them. Asset hashes are normalised; routes and their Lambda
// permissions are left out so a new route in runtime/control-plane/routes.ts does not churn the snapshot
// (control-plane.test.ts asserts every route). After an intended change: `npx vitest run test/cdk -u`.
describe('snapshots', () => {
  const app = new App({ context: { [NO_BUNDLING_CONTEXT]: [] } });
  // The UI build is pinned to a fixture so the snapshot does not depend on whether runtime/ui/dist was built.
  const cp = new ControlPlaneStack(app, 'TollgateControlPlane', { handlersDir: HANDLERS_DIR, uiAssetsDir: UI_FIXTURE_DIR });
  const dp = new DataPlaneStack(app, 'TollgateDataPlane', { controlPlaneUrl: 'https://control-plane.example.com', image: PINNED_IMAGE });

  it('TollgateControlPlane', () => {
    expect(normalisedTemplate(Template.fromStack(cp), ['AWS::ApiGatewayV2::Route', 'AWS::Lambda::Permission'])).toMatchSnapshot();
  });

  it('TollgateDataPlane', () => {
    expect(normalisedTemplate(Template.fromStack(dp))).toMatchSnapshot();
  });
});
