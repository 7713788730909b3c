import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, Checksum, SourceData } from '@smithy/types';

/** ElastiCache accepts a token for 15 minutes; it is only checked when a connection authenticates. */
export const IAM_TOKEN_SECONDS = 900;
/** New tokens well before the old one expires, so a reconnect never presents an expired one. */
export const IAM_REFRESH_MS = 10 * 60 * 1000;

export interface ElastiCacheIamOptions {
  /** The ElastiCache user id (IAM-enabled users have user id = user name); sent as the AUTH username too. */
  userId: string;
  /** The replication group id (or serverless cache name), lower case, as in the cache's ARN. */
  cacheName: string;
  region: string;
  /** ElastiCache Serverless caches need `ResourceType=ServerlessCache` in the token. */
  serverless?: boolean;
  /** Default: the SDK's provider chain (the ECS task role in AWS). */
  credentials?: AwsCredentialIdentityProvider;
}

class Sha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** RFC 3986, as SigV4 canonicalises query strings. */
const escapeUri = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * The IAM authentication token ElastiCache (Valkey 7.2+/Redis OSS 7+) accepts as the AUTH password
 * of an IAM-enabled user: a SigV4-presigned `GET http://<cache>/?Action=connect&User=<user>` for
 * the `elasticache` service, valid 15 minutes, without its scheme. Signing is local; only the
 * credentials may need a network call (the task role's endpoint), and the SDK caches those.
 */
export async function elastiCacheAuthToken(opts: ElastiCacheIamOptions, signingDate = new Date()): Promise<string> {
  const signer = new SignatureV4({
    service: 'elasticache',
    region: opts.region,
    credentials: opts.credentials ?? defaultProvider(),
    sha256: Sha256,
    uriEscapePath: true,
  });
  const query: Record<string, string> = { Action: 'connect', User: opts.userId };
  if (opts.serverless) query.ResourceType = 'ServerlessCache';
  const signed = await signer.presign(
    { method: 'GET', protocol: 'http:', hostname: opts.cacheName, path: '/', query, headers: { host: opts.cacheName } },
    { expiresIn: IAM_TOKEN_SECONDS, signingDate },
  );
  const pairs = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : v === null ? [] : [[k, v] as const]))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${escapeUri(k)}=${escapeUri(v)}`);
  return `${opts.cacheName}/?${pairs.join('&')}`;
}
