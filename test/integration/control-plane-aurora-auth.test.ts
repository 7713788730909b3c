import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamPoolConfig, postgresDbFromSecret } from '../../runtime/adapters/postgres-db.js';
import { rdsIamToken } from '../../runtime/adapters/rds-iam-token.js';
import { databaseFromEnv } from '../../runtime/control-plane/context.js';

/** node:crypto behind the Smithy hash interface, so the reference signer needs no extra package. */
class Sha256 {
  private h;
  constructor(private readonly secret?: SourceData) {
    this.h = this.fresh();
  }
  private fresh() {
    const s = this.secret;
    return s === undefined ? createHash('sha256') : createHmac('sha256', typeof s === 'string' ? s : Buffer.from(s instanceof ArrayBuffer ? new Uint8Array(s) : new Uint8Array(s.buffer, s.byteOffset, s.byteLength)));
  }
  update(data: SourceData) {
    this.h.update(typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  reset() {
    this.h = this.fresh();
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

/** The AWS SDK's own SigV4 presigner, doing what `@aws-sdk/rds-signer` does. */
async function referenceToken(host: string, port: number, user: string, region: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, now: Date) {
  const signer = new SignatureV4({ service: 'rds-db', region, credentials, sha256: Sha256 });
  const signed = await signer.presign(
    { method: 'GET', protocol: 'https:', hostname: host, port, path: '/', query: { Action: 'connect', DBUser: user }, headers: { host: `${host}:${port}` } },
    { expiresIn: 900, signingDate: now },
  );
  return signed.query as Record<string, string>;
}

const params = (token: string) => Object.fromEntries(new URL(`https://${token}`).searchParams);

describe('Aurora credentials: IAM auth tokens', () => {
  const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const now = new Date('2026-11-27T12:34:56Z');

  it('signs the same connect request as the AWS SDK presigner (with and without a session token)', async () => {
    for (const c of [creds, { ...creds, sessionToken: 'FQoGZXIvYXdzEJr//////////wEaDOdd+token/with=chars' }]) {
      const token = rdsIamToken({ host: 'db.cluster-abc.eu-west-1.rds.amazonaws.com', port: 5432, user: 'tollgate_app', region: 'eu-west-1', credentials: c, now });
      expect(token.startsWith('db.cluster-abc.eu-west-1.rds.amazonaws.com:5432/?')).toBe(true);
      const ours = params(token);
      const ref = await referenceToken('db.cluster-abc.eu-west-1.rds.amazonaws.com', 5432, 'tollgate_app', 'eu-west-1', c, now);
      expect(ours).toEqual(ref);
      expect(ours).toMatchObject({ Action: 'connect', DBUser: 'tollgate_app', 'X-Amz-Expires': '900', 'X-Amz-Credential': 'AKIDEXAMPLE/20261127/eu-west-1/rds-db/aws4_request' });
    }
  });

  it('a user name with reserved characters is encoded the way the service verifies it', async () => {
    const token = rdsIamToken({ host: 'h', port: 6543, user: "o'brien (ops)*", region: 'us-east-1', credentials: creds, now });
    expect(params(token)).toEqual(await referenceToken('h', 6543, "o'brien (ops)*", 'us-east-1', creds, now));
  });

  it('the pool asks for a new token per connection, signed with the credentials of that moment', async () => {
    let n = 0;
    const config = iamPoolConfig({ host: 'db.example', user: 'app', database: 'tollgate', region: 'eu-west-1' }, () => ({ accessKeyId: `AKID${++n}`, secretAccessKey: 'k' }));
    expect(config).toMatchObject({ host: 'db.example', port: 5432, user: 'app', database: 'tollgate' });
    const password = config.password as () => Promise<string>;
    const [a, b] = [await password(), await password()];
    expect(params(a)['X-Amz-Credential']).toMatch(/^AKID1\//);
    expect(params(b)['X-Amz-Credential']).toMatch(/^AKID2\//);
  });

  it('databaseFromEnv picks IAM auth from TOLLGATE_DB_IAM_USER and names what is missing', async () => {
    await expect(databaseFromEnv({ TOLLGATE_DB_IAM_USER: 'app', AWS_REGION: 'eu-west-1' })).rejects.toThrow(/TOLLGATE_DB_HOST/);
    const db = await databaseFromEnv({ TOLLGATE_DB_IAM_USER: 'app', TOLLGATE_DB_HOST: '127.0.0.1', TOLLGATE_DB_PORT: '1', AWS_REGION: 'eu-west-1' });
    try {
      // The pool connects where the env says (nothing listens on port 1), lazily, on first use.
      await expect(db.query('SELECT 1')).rejects.toThrow(/127\.0\.0\.1:1/);
    } finally {
      await db.close();
    }
  });
});

/** The RDS secret JSON from a local server speaking the Secrets Manager protocol, then a real Postgres. */
describe.runIf(process.env.TOLLGATE_TEST_DATABASE_URL)('Aurora credentials: Secrets Manager', () => {
  let server: Server;
  let client: SecretsManagerClient;
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tollgate-db-AbCdEf';
  beforeAll(async () => {
    const url = new URL(process.env.TOLLGATE_TEST_DATABASE_URL!);
    const secret = { engine: 'postgres', host: url.hostname, port: Number(url.port), username: decodeURIComponent(url.username), password: 'unused-with-trust', dbname: url.pathname.slice(1) || 'postgres' };
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { SecretId } = JSON.parse(body) as { SecretId: string };
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (SecretId !== arn) {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
          return;
        }
        res.end(JSON.stringify({ ARN: arn, Name: 'tollgate-db', SecretString: JSON.stringify(secret), VersionId: 'v1' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = new SecretsManagerClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } });
  });
  afterAll(async () => {
    client?.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('connects with the host, port, user and database the secret names', async () => {
    const url = new URL(process.env.TOLLGATE_TEST_DATABASE_URL!);
    // The test server has no TLS; Aurora does, and the default (ssl: true) verifies its certificate.
    const db = await postgresDbFromSecret(arn, { ssl: false }, client);
    try {
      const { rows } = await db.query<{ u: string; d: string }>('SELECT current_user AS u, current_database() AS d');
      expect(rows[0]).toEqual({ u: decodeURIComponent(url.username), d: url.pathname.slice(1) || 'postgres' });
    } finally {
      await db.close();
    }
    await expect(postgresDbFromSecret(`${arn}-other`, { ssl: false }, client)).rejects.toThrow(/not found/);
  });
});
