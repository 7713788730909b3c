import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RdsTokenParams {
  host: string;
  port: number;
  user: string;
  region: string;
  credentials: AwsCredentials;
  /** For tests; the token is valid 15 minutes from here. */
  now?: Date;
}

/** RFC 3986 encoding, as SigV4 canonical query strings need (encodeURIComponent leaves !'()* alone). */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();

/**
 * An RDS / Aurora IAM authentication token: a SigV4-presigned `connect` request for `rds-db`, used as
 * the Postgres password (valid 15 minutes; each new pooled connection asks for a fresh one). Signing
 * is local (no AWS call), so it costs nothing per connection. What `@aws-sdk/rds-signer` produces,
 * without the extra dependency.
 */
export function rdsIamToken(p: RdsTokenParams): string {
  const now = p.now ?? new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${p.region}/rds-db/aws4_request`;
  const host = `${p.host}:${p.port}`;
  const query: Record<string, string> = {
    Action: 'connect',
    DBUser: p.user,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${p.credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': '900',
    'X-Amz-SignedHeaders': 'host',
  };
  if (p.credentials.sessionToken) query['X-Amz-Security-Token'] = p.credentials.sessionToken;
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${enc(k)}=${enc(query[k])}`)
    .join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${host}`, '', 'host', sha256('')].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${p.credentials.secretAccessKey}`, day), p.region), 'rds-db'), 'aws4_request');
  return `${host}/?${canonicalQuery}&X-Amz-Signature=${createHmac('sha256', key).update(toSign).digest('hex')}`;
}

/** Lambda (and ECS with the task role exported) puts the role's temporary credentials in env. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsCredentials {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (!accessKeyId || !secretAccessKey) throw new Error('IAM database auth needs AWS credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)');
  return { accessKeyId, secretAccessKey, sessionToken: sessionToken || undefined };
}
