import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpProblem } from '../../core/errors.js';

/**
 * STS AssumeRole for a Bedrock virtual key that names `aws_role_arn` (cross-account access, as
 * Portkey's `awsRoleArn`). The gateway's own credentials (the task role, or the key's static
 * credentials) assume the role; the temporary credentials are cached per role and external id
 * and renewed ahead of expiry, so a request only waits on STS the first time and once an hour.
 */
export type AwsCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

const SESSION_SECONDS = 3600;
/** Renew this long before expiry so no request signs with credentials about to lapse. */
const RENEW_MS = 5 * 60_000;
const MAX_ROLES = 1000;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

type Entry = { credentials?: AwsCredentials; expiresAt: number; pending?: Promise<AwsCredentials> };
const cache = new Map<string, Entry>();

/** For tests: forget every assumed role. */
export function clearAssumedRoles(): void {
  cache.clear();
}

function stsEndpoint(region: string): string {
  // AWS_ENDPOINT_URL_STS is the SDKs' standard override (VPC endpoints, tests).
  return (process.env.AWS_ENDPOINT_URL_STS ?? `https://sts.${region}.amazonaws.com`).replace(/\/+$/, '');
}

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

async function callAssumeRole(roleArn: string, externalId: string | undefined, region: string, base: AwsCredentials): Promise<{ credentials: AwsCredentials; expiresAt: number }> {
  const form = new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: roleArn, RoleSessionName: 'tollgate-gateway', DurationSeconds: String(SESSION_SECONDS) });
  if (externalId) form.set('ExternalId', externalId);
  const body = form.toString();
  const url = new URL(stsEndpoint(region));
  const signed = await new SignatureV4({ service: 'sts', region, sha256: Sha256, credentials: base }).sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname || '/',
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body, signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new HttpProblem(502, `bedrock: STS did not answer while assuming ${roleArn}; check the gateway's network path to STS`);
  }
  const xml = await res.text();
  if (!res.ok) {
    const code = tag(xml, 'Code') ?? `HTTP ${res.status}`;
    throw new HttpProblem(403, `bedrock: could not assume ${roleArn} (${code}); the role's trust policy must allow the gateway's role${externalId ? ' with this external id' : ''}`);
  }
  const accessKeyId = tag(xml, 'AccessKeyId');
  const secretAccessKey = tag(xml, 'SecretAccessKey');
  const sessionToken = tag(xml, 'SessionToken');
  const expiration = Date.parse(tag(xml, 'Expiration') ?? '');
  if (!accessKeyId || !secretAccessKey || !sessionToken) throw new HttpProblem(502, `bedrock: STS answered AssumeRole for ${roleArn} without credentials`);
  return { credentials: { accessKeyId, secretAccessKey, sessionToken }, expiresAt: Number.isFinite(expiration) ? expiration : Date.now() + SESSION_SECONDS * 1000 };
}

/** Temporary credentials for `roleArn`, assumed with `base` (only called when STS must be asked). */
export async function assumedRoleCredentials(roleArn: string, externalId: string | undefined, region: string, base: () => Promise<AwsCredentials>): Promise<AwsCredentials> {
  if (!ROLE_ARN.test(roleArn)) throw new HttpProblem(400, `aws_role_arn "${roleArn}" is not an IAM role ARN`);
  const key = `${roleArn}|${externalId ?? ''}|${region}`;
  let entry = cache.get(key);
  if (entry?.credentials && entry.expiresAt - RENEW_MS > Date.now()) return entry.credentials;
  if (entry?.pending) return entry.pending;
  if (!entry) {
    if (cache.size >= MAX_ROLES) cache.delete(cache.keys().next().value!);
    cache.set(key, (entry = { expiresAt: 0 }));
  }
  const current = entry;
  current.pending = base()
    .then((creds) => callAssumeRole(roleArn, externalId, region, creds))
    .then(({ credentials, expiresAt }) => {
      current.credentials = credentials;
      current.expiresAt = expiresAt;
      return credentials;
    })
    .finally(() => {
      current.pending = undefined;
    });
  return current.pending;
}
