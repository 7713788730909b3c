import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlaneStack, DataPlane, type ControlPlaneStackProps, type DataPlaneProps } from '../../lib/index.js';
import { DEFAULT_HANDLERS_DIR } from '../../lib/paths.js';
import { controlPlaneHandlers } from '../../runtime/control-plane/routes.js';

const here = dirname(fileURLToPath(import.meta.url));
/** A tiny built UI, to exercise the upload to the UI bucket. */
export const UI_FIXTURE_DIR = join(here, 'fixtures', 'ui');
export const ALL_HANDLERS = [...controlPlaneHandlers, 'migrate'];

/** True when every real handler entry (and migrate.ts) exists: the tests then bundle the real code. */
export const realHandlersPresent = ALL_HANDLERS.every((h) => existsSync(join(DEFAULT_HANDLERS_DIR, `${h}.ts`)));

/** Stand-in entries (outside the repo) for handlers that do not exist yet, so the CDK tests never block on them. */
function standInHandlers(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cdk-handlers-'));
  for (const h of ALL_HANDLERS) {
    writeFileSync(join(dir, `${h}.ts`), `export const handler = async () => ({ statusCode: 200, body: '${h}' });\n`);
  }
  return dir;
}

/** The real handlers once they all exist, stand-ins before that. */
export const HANDLERS_DIR = realHandlersPresent ? DEFAULT_HANDLERS_DIR : standInHandlers();

/** A pinned image keeps most tests free of Docker asset fingerprinting; the default image has its own tests. */
export const PINNED_IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/tollgate/gateway:0.1.0');

export interface DataPlaneSynth {
  app: App;
  stack: Stack;
  dataPlane: DataPlane;
  template: Template;
}

/** One synthesized DataPlane in its own stack. `props` override the minimal ones. */
export function synthDataPlane(
  props: Partial<DataPlaneProps> | ((stack: Stack) => Partial<DataPlaneProps>) = {},
  after?: (dataPlane: DataPlane, stack: Stack) => void,
  env?: { region?: string; account?: string },
): DataPlaneSynth {
  const app = new App();
  const stack = new Stack(app, 'Dp', { env });
  const dataPlane = new DataPlane(stack, 'Gw', {
    controlPlaneUrl: 'https://cp.example.com',
    credentialSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Credential', 'tollgate/data-plane-credential'),
    image: PINNED_IMAGE,
    ...(typeof props === 'function' ? props(stack) : props),
  });
  after?.(dataPlane, stack);
  return { app, stack, dataPlane, template: Template.fromStack(stack) };
}

/** App context that turns asset bundling off for every stack. */
export const NO_BUNDLING_CONTEXT = 'aws:cdk:bundling-stacks';

export interface ControlPlaneSynth {
  app: App;
  stack: ControlPlaneStack;
  template: Template;
}

/**
 * One synthesized ControlPlaneStack. Bundling (local esbuild, ~1-2 s per function) runs only with
 * `bundle: true`; other configurations get CDK's placeholder code so the suite stays fast.
 */
export function synthControlPlane(
  props: ControlPlaneStackProps = {},
  withScope?: (stack: Stack) => Partial<ControlPlaneStackProps>,
  opts: { bundle?: boolean } = {},
): ControlPlaneSynth {
  const app = new App(opts.bundle ? {} : { context: { [NO_BUNDLING_CONTEXT]: [] } });
  // Props that need constructs (topics, certificates) are created in a sibling stack of the same app.
  const deps = withScope ? withScope(new Stack(app, 'Deps', { env: props.env })) : {};
  const stack = new ControlPlaneStack(app, 'Cp', { handlersDir: HANDLERS_DIR, ...props, ...deps });
  return { app, stack, template: Template.fromStack(stack) };
}

/** Unacknowledged AwsSolutions findings (errors and warnings), as `severity rule path` lines. */
export function nagFindings(app: App): string[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} ${r.constructPath}`));
}

/** Template JSON with asset hashes and code-derived version ids replaced, for snapshots. */
export function normalisedTemplate(template: Template, dropTypes: string[] = []): unknown {
  const json = template.toJSON() as { Resources: Record<string, { Type: string }> };
  for (const [id, r] of Object.entries(json.Resources)) if (dropTypes.includes(r.Type)) delete json.Resources[id];
  const text = JSON.stringify(json)
    .replace(/[a-f0-9]{64}/g, '<hash>')
    .replace(/CurrentVersion[A-F0-9]{8}[a-f0-9]{32}/g, 'CurrentVersion<hash>');
  return JSON.parse(text);
}
