import { Token } from 'aws-cdk-lib';
import type { DataPlaneProps } from './props.js';

const FARGATE_MEMORY: Record<number, [number, number]> = {
  256: [512, 2048], 512: [1024, 4096], 1024: [2048, 8192], 2048: [4096, 16384],
  4096: [8192, 30720], 8192: [16384, 61440], 16384: [32768, 122880],
};

/** Variables the construct injects from Secrets Manager; `environment` may not set them in clear text. */
const SECRET_VARIABLES = ['TOLLGATE_DATA_PLANE_TOKEN', 'TOLLGATE_REDIS_AUTH_TOKEN', 'TOLLGATE_BUDGET_ALERT_WEBHOOK', 'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'];

/** Throws a clear synth-time error for invalid DataPlane prop combinations. */
export function validateDataPlaneProps(p: DataPlaneProps): void {
  const fail = (msg: string): never => {
    throw new Error(`Tollgate DataPlane: ${msg}`);
  };
  if (!Token.isUnresolved(p.controlPlaneUrl) && !/^https:\/\//.test(p.controlPlaneUrl)) {
    fail(`controlPlaneUrl must be an https:// URL (got "${p.controlPlaneUrl}").`);
  }
  if (p.publicLoadBalancer && !p.certificate && !p.allowInsecurePublicHttp) {
    fail('a public load balancer needs a certificate (HTTPS). Pass `certificate`, or set `allowInsecurePublicHttp: true` to accept plain HTTP on the internet.');
  }
  if (p.allowInsecurePublicHttp && !p.publicLoadBalancer) {
    fail('`allowInsecurePublicHttp` only applies with `publicLoadBalancer: true`.');
  }
  if (p.vpc && p.natGateways !== undefined) fail('`natGateways` only applies to the VPC the construct creates; remove it or remove `vpc`.');
  const min = p.minCapacity ?? 2;
  const max = p.maxCapacity ?? 10;
  const desired = p.desiredCount ?? min;
  if (min < 1) fail(`minCapacity must be at least 1 (got ${min}).`);
  if (min > max) fail(`minCapacity (${min}) is greater than maxCapacity (${max}).`);
  if (desired < min || desired > max) fail(`desiredCount (${desired}) must be between minCapacity (${min}) and maxCapacity (${max}).`);
  const cpu = p.cpu ?? 1024;
  const mem = p.memoryMiB ?? 2048;
  const range = FARGATE_MEMORY[cpu];
  if (!range) fail(`cpu must be one of ${Object.keys(FARGATE_MEMORY).join(', ')} (got ${cpu}).`);
  else if (mem < range[0] || mem > range[1]) fail(`memoryMiB ${mem} is not valid for cpu ${cpu} (Fargate allows ${range[0]}-${range[1]}).`);
  const drain = p.drainTimeout?.toSeconds() ?? 60;
  if (drain < 0 || drain > 110) fail(`drainTimeout must be 0-110 seconds (the container stop timeout is drain + 10 s, at most 120 s); got ${drain}.`);
  const sync = p.syncInterval?.toSeconds() ?? 30;
  if (sync < 5) fail(`syncInterval must be at least 5 seconds (got ${sync}).`);
  const logMode = p.logMode ?? 'customer';
  if (logMode !== 'customer' && logMode !== 'control-plane') fail(`logMode must be 'customer' or 'control-plane' (got "${String(logMode)}").`);
  if (logMode === 'control-plane' && (p.logBucket || p.logRetention)) {
    fail("`logBucket`/`logRetention` apply only to logMode 'customer'; in 'control-plane' mode logs leave through the control plane.");
  }
  const c = p.cache ?? {};
  const multiAz = c.multiAz ?? true;
  const nodes = c.nodes ?? (multiAz ? 2 : 1);
  if (nodes < 1 || nodes > 6) fail(`cache.nodes must be 1-6 (one primary and up to five replicas); got ${nodes}.`);
  if (multiAz && nodes < 2) fail('cache.multiAz needs at least 2 cache.nodes (a primary and a replica in another AZ).');
  if (c.authentication && c.authentication !== 'token' && c.authentication !== 'iam') {
    fail(`cache.authentication must be 'token' or 'iam' (got "${String(c.authentication)}").`);
  }
  if (c.shards !== undefined && (!Number.isInteger(c.shards) || c.shards < 1 || c.shards > 500)) {
    fail(`cache.shards must be a whole number from 1 to 500 (got ${c.shards}).`);
  }
  if (c.engine && c.engine !== 'valkey' && c.engine !== 'redis') fail(`cache.engine must be 'valkey' or 'redis' (got "${String(c.engine)}").`);
  if (p.previousKmsKeyArns?.length && !p.kmsKeyArn) fail('`previousKmsKeyArns` needs `kmsKeyArn` (the current key; the previous ones only decrypt).');
  for (const arn of [p.kmsKeyArn, ...(p.previousKmsKeyArns ?? [])]) {
    if (arn && !Token.isUnresolved(arn) && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(arn)) {
      // IAM grants and the keyring's decrypt need the key ARN itself; an alias ARN would authorise nothing.
      fail(`"${arn}" is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; aliases cannot be granted kms:Decrypt).`);
    }
  }
  if (p.logPrefix !== undefined && logMode !== 'customer') fail("`logPrefix` applies only to logMode 'customer'.");
  if (p.logPrefix && !Token.isUnresolved(p.logPrefix) && (!p.logPrefix.endsWith('/') || p.logPrefix.startsWith('/'))) {
    fail(`logPrefix must end with "/" and not start with one (got "${p.logPrefix}"); log keys are appended to it as is.`);
  }
  if (p.gatewayPublicUrl && !Token.isUnresolved(p.gatewayPublicUrl) && !/^https:\/\//.test(p.gatewayPublicUrl)) {
    fail(`gatewayPublicUrl must be an https:// URL: the control plane sends log-fetch tokens to it (got "${p.gatewayPublicUrl}").`);
  }
  const age = p.healthMaxSyncAge?.toSeconds();
  if (age !== undefined && age < 2 * sync) {
    fail(`healthMaxSyncAge (${age} s) must be at least two sync intervals (${2 * sync} s), or every task turns unhealthy between two syncs.`);
  }
  const l = p.limits ?? {};
  if (l.onCacheDown && !['local', 'open', 'closed'].includes(l.onCacheDown)) fail(`limits.onCacheDown must be 'local', 'open' or 'closed' (got "${String(l.onCacheDown)}").`);
  if (l.localFraction !== undefined && !(l.localFraction > 0 && l.localFraction <= 1)) fail(`limits.localFraction must be in (0, 1] (got ${l.localFraction}).`);
  const t = p.telemetry ?? {};
  if (t.batchSize !== undefined && (!Number.isInteger(t.batchSize) || t.batchSize < 1)) fail(`telemetry.batchSize must be a positive whole number (got ${t.batchSize}).`);
  if (t.flushInterval && t.flushInterval.toMilliseconds() < 100) fail('telemetry.flushInterval must be at least 100 ms.');
  if (t.spoolMaxSize && t.spoolMaxSize.toBytes() < 1) fail('telemetry.spoolMaxSize must be at least 1 byte.');
  if (c.localTtl && c.localTtl.toSeconds() < 0) fail('cache.localTtl must not be negative.');
  const tr = p.tracing;
  if (tr) {
    if (!Token.isUnresolved(tr.endpoint) && !/^https?:\/\/[^/]+/.test(tr.endpoint)) fail(`tracing.endpoint must be an http(s) URL such as http://localhost:4318/v1/traces (got "${tr.endpoint}").`);
    if (tr.sampleRatio !== undefined && !(tr.sampleRatio >= 0 && tr.sampleRatio <= 1)) fail(`tracing.sampleRatio must be from 0 to 1 (got ${tr.sampleRatio}).`);
  }
  // Secrets go through Secrets Manager (ECS secrets), never plain environment variables.
  for (const name of Object.keys(p.environment ?? {})) {
    if (SECRET_VARIABLES.includes(name)) fail(`environment.${name} would put a secret in the task definition; it is injected from Secrets Manager (credentialSecret, the cache AUTH secret, limits.budgetAlertWebhook, tracing.headers).`);
  }
  for (const cidr of p.allowedCidrs ?? []) {
    if (!Token.isUnresolved(cidr) && !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(cidr)) fail(`allowedCidrs entry "${cidr}" is not a CIDR.`);
  }
}
