import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redisOptionsFromEnv } from '../../runtime/adapters/redis-cache-env.js';
import { elastiCacheAuthToken } from '../../runtime/adapters/elasticache-iam-token.js';

/**
 * The ElastiCache IAM token against AWS's documented form: a SigV4 presigned
 * `GET http://<cache>/?Action=connect&User=<user>` for service `elasticache`, 15 minutes, no
 * scheme. The signature is recomputed here from the SigV4 definition, independently of the SDK.
 */
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const date = new Date('2026-11-27T12:34:56Z');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function expectedSignature(token: string, cache: string, region: string, secret: string): string {
  const query = token.slice(token.indexOf('?') + 1);
  const params = query
    .split('&')
    .map((p) => p.split('=').map(decodeURIComponent) as [string, string])
    .filter(([k]) => k !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a], [b]) => (a! < b! ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const amzDate = params.find(([k]) => k === 'X-Amz-Date')![1];
  const day = amzDate.slice(0, 8);
  const emptyHash = createHash('sha256').update('').digest('hex');
  const canonical = ['GET', '/', canonicalQuery, `host:${cache}`, '', 'host', emptyHash].join('\n');
  const scope = `${day}/${region}/elasticache/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), 'elasticache'), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

describe('ElastiCache IAM auth token', () => {
  it('is the presigned connect URL without its scheme, signed as SigV4 defines', async () => {
    const token = await elastiCacheAuthToken({ userId: 'tollgate-gw', cacheName: 'tollgate-cache', region: 'eu-west-1', credentials: async () => credentials }, date);
    expect(token.startsWith('tollgate-cache/?')).toBe(true);
    expect(token).not.toMatch(/^https?:/);
    const params = new URLSearchParams(token.slice(token.indexOf('?') + 1));
    expect(params.get('Action')).toBe('connect');
    expect(params.get('User')).toBe('tollgate-gw');
    expect(params.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(params.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261127/eu-west-1/elasticache/aws4_request');
    expect(params.get('X-Amz-Date')).toBe('20261127T123456Z');
    expect(params.get('X-Amz-Expires')).toBe('900');
    expect(params.get('X-Amz-SignedHeaders')).toBe('host');
    expect(params.has('ResourceType')).toBe(false);
    expect(params.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(params.get('X-Amz-Signature')).toBe(expectedSignature(token, 'tollgate-cache', 'eu-west-1', credentials.secretAccessKey));
    // Another secret signs differently: the check above can fail.
    expect(params.get('X-Amz-Signature')).not.toBe(expectedSignature(token, 'tollgate-cache', 'eu-west-1', 'another-secret'));
  });

  it('carries the session token of temporary (task role) credentials, and the serverless resource type', async () => {
    const temporary = { ...credentials, sessionToken: 'FwoGZXIvYXdzEXAMPLE+/=session' };
    const token = await elastiCacheAuthToken({ userId: 'gw', cacheName: 'serverless-cache', region: 'us-east-1', serverless: true, credentials: async () => temporary }, date);
    const params = new URLSearchParams(token.slice(token.indexOf('?') + 1));
    expect(params.get('X-Amz-Security-Token')).toBe(temporary.sessionToken);
    expect(params.get('ResourceType')).toBe('ServerlessCache');
    expect(token).toContain('X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE%2B%2F%3Dsession'); // encoded, not raw
    expect(params.get('X-Amz-Signature')).toBe(expectedSignature(token, 'serverless-cache', 'us-east-1', temporary.secretAccessKey));
  });

  it('is configured from the environment, and refuses incomplete or plaintext IAM settings clearly', () => {
    const env = { TOLLGATE_REDIS_IAM_USER: 'gw', TOLLGATE_REDIS_IAM_CACHE_NAME: 'My-Cache', AWS_REGION: 'eu-west-1', TOLLGATE_REDIS_CLUSTER: 'true' };
    expect(redisOptionsFromEnv('rediss://cfg.example:6379', env)).toMatchObject({ iam: { userId: 'gw', cacheName: 'my-cache', region: 'eu-west-1', serverless: false }, cluster: true });
    expect(() => redisOptionsFromEnv('redis://cfg.example:6379', env)).toThrow(/needs TLS/);
    expect(() => redisOptionsFromEnv('rediss://cfg.example:6379', { ...env, TOLLGATE_REDIS_IAM_CACHE_NAME: '' })).toThrow(/TOLLGATE_REDIS_IAM_CACHE_NAME/);
    expect(() => redisOptionsFromEnv('rediss://cfg.example:6379', { ...env, AWS_REGION: '' })).toThrow(/AWS_REGION/);
    expect(() => redisOptionsFromEnv('rediss://cfg.example:6379', { ...env, TOLLGATE_REDIS_AUTH_TOKEN: 't' })).toThrow(/not both/);
    expect(redisOptionsFromEnv('redis://h:6379', { TOLLGATE_REDIS_AUTH_TOKEN: 'tok', TOLLGATE_REDIS_USERNAME: 'app' })).toMatchObject({ authToken: 'tok', username: 'app', cluster: false });
  });
});
