import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ControlPlaneProps } from './props.js';

/** Throws a clear synth-time error for invalid ControlPlane prop combinations. */
export function validateControlPlaneProps(scope: IConstruct, p: ControlPlaneProps): void {
  const fail = (msg: string): never => {
    throw new Error(`Tollgate ControlPlane: ${msg}`);
  };
  if (p.byokKeyArn && !Token.isUnresolved(p.byokKeyArn) && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(p.byokKeyArn)) {
    fail(`byokKeyArn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); got "${p.byokKeyArn}".`);
  }
  if (p.byokKeyArn && p.dataPlaneAccountIds?.length) {
    fail('`dataPlaneAccountIds` edits the policy of the key the stack creates; with `byokKeyArn` the customer grants their own gateway in their key policy.');
  }
  for (const a of p.dataPlaneAccountIds ?? []) if (!/^\d{12}$/.test(a)) fail(`dataPlaneAccountIds entry "${a}" is not a 12-digit AWS account id.`);
  if (p.metricsStore && p.metricsStore !== 'aurora' && p.metricsStore !== 'timestream') {
    fail(`metricsStore must be 'aurora' or 'timestream' (got "${String(p.metricsStore)}").`);
  }
  if (p.vpc && p.natGateways !== undefined) fail('`natGateways` only applies to the VPC the construct creates; remove it or remove `vpc`.');
  const db = p.database ?? {};
  const min = db.minCapacity ?? 0.5;
  const max = db.maxCapacity ?? 8;
  if (min < 0 || max > 256 || min > max) fail(`database capacity must satisfy 0 <= minCapacity <= maxCapacity <= 256 (got ${min}-${max}).`);
  if ((db.readers ?? 1) < 0 || (db.readers ?? 1) > 15) fail('database.readers must be 0-15.');
  if ((db.backupRetention?.toDays() ?? 14) < 1 || (db.backupRetention?.toDays() ?? 14) > 35) fail('database.backupRetention must be 1-35 days.');
  if (p.oidcIssuerUrl && !p.oidcClientId) fail('`oidcIssuerUrl` needs `oidcClientId`.');
  if (p.oidcClientId && !p.oidcIssuerUrl) fail('`oidcClientId` needs `oidcIssuerUrl`.');
  if (p.oidcIssuerUrl && !Token.isUnresolved(p.oidcIssuerUrl) && !p.oidcIssuerUrl.startsWith('https://')) fail('`oidcIssuerUrl` must be an https:// URL.');
  if (!!p.domainName !== !!p.certificate) fail('`domainName` and `certificate` go together (the certificate must be in us-east-1 for CloudFront).');
  if (p.webAclArn && p.createWebAcl) fail('pass either `webAclArn` or `createWebAcl`, not both.');
  const region = Stack.of(scope).region;
  if (p.createWebAcl && !Token.isUnresolved(region) && region !== 'us-east-1') {
    fail(`createWebAcl makes a CLOUDFRONT-scope web ACL, which must be created in us-east-1 (this stack is in ${region}); create it there and pass webAclArn.`);
  }
  if (p.oidcClientSecret && !p.oidcIssuerUrl) fail('`oidcClientSecret` applies to an external issuer (`oidcIssuerUrl`); the Cognito client has no secret.');
  if (p.oidcOrganisationId && !/^[A-Za-z0-9_-]{1,64}$/.test(p.oidcOrganisationId) && !Token.isUnresolved(p.oidcOrganisationId)) {
    fail(`oidcOrganisationId "${p.oidcOrganisationId}" is not an organisation id.`);
  }
  const runtime = p.functions?.runtime;
  if (runtime) {
    const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
    if (!major || Number(major) < 22) fail(`functions.runtime must be Node.js 22 or later (nodejs22.x, nodejs24.x...); got ${runtime.name}.`);
  }
  const timeout = p.functions?.timeout?.toSeconds() ?? 29;
  if (timeout > 30) fail('functions.timeout must be at most 30 seconds (the API Gateway integration limit).');
  const rate = p.apiRateLimit ?? 500;
  if (rate < 1) fail('apiRateLimit must be at least 1.');
}
