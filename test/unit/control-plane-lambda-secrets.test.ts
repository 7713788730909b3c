import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionKey, signSession, verifySession } from '../../runtime/control-plane/auth/session.js';
import { contextFromEnv } from '../../runtime/control-plane/context.js';
import { applyLambdaSecrets, loadLambdaSecrets, type SecretsReader } from '../../runtime/control-plane/lambda-secrets.js';

const SESSION_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:SessionSecret-AbCdEf';
const ADMIN_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:PlatformAdminKey-GhIjKl';

/** A fake SecretsManagerClient: answers GetSecretValue from a map and records the ids asked for. */
function fakeClient(values: Record<string, { SecretString?: string; SecretBinary?: Uint8Array } | Error>): SecretsReader & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async send(command: GetSecretValueCommand) {
      const id = command.input.SecretId!;
      asked.push(id);
      const v = values[id];
      if (!v) throw Object.assign(new Error(`Secrets Manager can't find the specified secret.`), { name: 'ResourceNotFoundException' });
      if (v instanceof Error) throw v;
      return v;
    },
  };
}

describe('loadLambdaSecrets', () => {
  it('reads the session secret and the platform admin key by ARN, once each', async () => {
    const client = fakeClient({ [SESSION_ARN]: { SecretString: 'session-value' }, [ADMIN_ARN]: { SecretString: 'admin-value' } });
    const got = await loadLambdaSecrets({ TOLLGATE_SESSION_SECRET_ARN: SESSION_ARN, TOLLGATE_PLATFORM_ADMIN_KEY_ARN: ADMIN_ARN }, client);
    expect(got).toEqual({ sessionSecret: 'session-value', platformAdminKey: 'admin-value' });
    expect(client.asked.sort()).toEqual([ADMIN_ARN, SESSION_ARN].sort());
  });

  it('reads only what env names (API functions other than platform get no admin key)', async () => {
    const client = fakeClient({ [SESSION_ARN]: { SecretBinary: new TextEncoder().encode('binary-session') } });
    expect(await loadLambdaSecrets({ TOLLGATE_SESSION_SECRET_ARN: SESSION_ARN }, client)).toEqual({ sessionSecret: 'binary-session' });
    expect(client.asked).toEqual([SESSION_ARN]);
  });

  it('does not call Secrets Manager without ARNs, and a plain value wins over its ARN', async () => {
    const client = fakeClient({});
    expect(await loadLambdaSecrets({}, client)).toEqual({});
    expect(await loadLambdaSecrets({ TOLLGATE_SESSION_SECRET: 'plain', TOLLGATE_SESSION_SECRET_ARN: SESSION_ARN }, client)).toEqual({ sessionSecret: 'plain' });
    expect(client.asked).toEqual([]);
  });

  it('fails the cold start with the variable and ARN named, never a value', async () => {
    const client = fakeClient({ [SESSION_ARN]: { SecretString: 'leak-me-not' } });
    await expect(loadLambdaSecrets({ TOLLGATE_SESSION_SECRET_ARN: SESSION_ARN, TOLLGATE_PLATFORM_ADMIN_KEY_ARN: ADMIN_ARN }, client))
      .rejects.toThrow(/TOLLGATE_PLATFORM_ADMIN_KEY_ARN .*PlatformAdminKey-GhIjKl.*ResourceNotFoundException/);
    const denied = fakeClient({ [SESSION_ARN]: Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }) });
    const err = await loadLambdaSecrets({ TOLLGATE_SESSION_SECRET_ARN: SESSION_ARN }, denied).catch((e: Error) => e);
    expect(String(err)).toMatch(/TOLLGATE_SESSION_SECRET_ARN.*AccessDeniedException/);
    expect(String(err)).not.toMatch(/leak-me-not/);
    await expect(loadLambdaSecrets({ TOLLGATE_SESSION_SECRET_ARN: SESSION_ARN }, fakeClient({ [SESSION_ARN]: { SecretString: '' } })))
      .rejects.toThrow(/empty secret/);
  });
});

describe('OIDC client secret', () => {
  it('is read by ARN for the auth function and put where oidcConfig reads it', async () => {
    const OIDC_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:OidcClientSecret-MnOpQr';
    const client = fakeClient({ [OIDC_ARN]: { SecretString: 'client-secret-value' } });
    const got = await loadLambdaSecrets({ TOLLGATE_OIDC_CLIENT_SECRET_ARN: OIDC_ARN }, client);
    expect(got).toEqual({ oidcClientSecret: 'client-secret-value' });
    const target: NodeJS.ProcessEnv = {};
    applyLambdaSecrets(got, target);
    expect(target.TOLLGATE_OIDC_CLIENT_SECRET).toBe('client-secret-value');
  });
});

describe('applyLambdaSecrets', () => {
  it('configures the session key (shared by all functions) and the platform admin key', async () => {
    const target: NodeJS.ProcessEnv = {};
    applyLambdaSecrets({ sessionSecret: 'shared-session-secret', platformAdminKey: 'admin-value' }, target);
    expect(Buffer.from(sessionKey())).toEqual(createHash('sha256').update('shared-session-secret').digest());
    expect(target.TOLLGATE_PLATFORM_ADMIN_KEY).toBe('admin-value');
    // A session signed by one function (auth) verifies in another (same secret, another process).
    const token = await signSession({ userId: 'u', organisationId: 'o', method: 'password', sessionId: 's' });
    expect(await verifySession(token)).toMatchObject({ userId: 'u', organisationId: 'o', sessionId: 's' });
  });
});

/** The real SDK client against a local server speaking the Secrets Manager JSON 1.1 protocol. */
describe('loadLambdaSecrets with the AWS SDK client', () => {
  let server: Server;
  let endpoint: string;
  const targets: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        targets.push(String(req.headers['x-amz-target']));
        const { SecretId } = JSON.parse(body) as { SecretId: string };
        const value = { [SESSION_ARN]: 'sdk-session', [ADMIN_ARN]: 'sdk-admin' }[SecretId];
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (!value) {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
          return;
        }
        res.end(JSON.stringify({ ARN: SecretId, Name: SecretId.split(':').pop(), SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends GetSecretValue per ARN and reads SecretString', async () => {
    const client = new SecretsManagerClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    const got = await loadLambdaSecrets({ TOLLGATE_SESSION_SECRET_ARN: SESSION_ARN, TOLLGATE_PLATFORM_ADMIN_KEY_ARN: ADMIN_ARN }, client);
    expect(got).toEqual({ sessionSecret: 'sdk-session', platformAdminKey: 'sdk-admin' });
    expect(targets).toEqual(['secretsmanager.GetSecretValue', 'secretsmanager.GetSecretValue']);
    await expect(loadLambdaSecrets({ TOLLGATE_SESSION_SECRET_ARN: `${SESSION_ARN}x` }, client)).rejects.toThrow(/ResourceNotFoundException/);
    client.destroy();
  });
});

describe('contextFromEnv (the Lambda cold start)', () => {
  it('loads the secrets and the observability stores from what the CDK passes', async () => {
    const client = fakeClient({ [SESSION_ARN]: { SecretString: 'ctx-session' }, [ADMIN_ARN]: { SecretString: 'ctx-admin' } });
    const before = process.env.TOLLGATE_PLATFORM_ADMIN_KEY;
    const ctx = await contextFromEnv({
      // The pool connects lazily: no database is needed to build the context with migrations skipped.
      DATABASE_URL: 'postgres://tollgate@127.0.0.1:1/none',
      TOLLGATE_SKIP_MIGRATIONS: '1',
      TOLLGATE_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:111111111111:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      TOLLGATE_SESSION_SECRET_ARN: SESSION_ARN,
      TOLLGATE_PLATFORM_ADMIN_KEY_ARN: ADMIN_ARN,
      TOLLGATE_CP_LOG_BUCKET: 'tollgate-log-store',
      TOLLGATE_CP_LOG_PREFIX: 'logs/',
      TOLLGATE_METRICS_STORE: 'timestream',
      TOLLGATE_TIMESTREAM_DATABASE: 'tollgate',
      TOLLGATE_TIMESTREAM_TABLE: 'metrics',
      AWS_REGION: 'eu-west-1',
    }, { secretsClient: client });
    try {
      expect(ctx.devMode).toBe(false);
      expect(ctx.logStore).toBeDefined();
      expect(ctx.metricsStore).toBeDefined();
      expect(Buffer.from(sessionKey())).toEqual(createHash('sha256').update('ctx-session').digest());
      expect(process.env.TOLLGATE_PLATFORM_ADMIN_KEY).toBe('ctx-admin');
    } finally {
      await ctx.db.close();
      if (before === undefined) delete process.env.TOLLGATE_PLATFORM_ADMIN_KEY;
      else process.env.TOLLGATE_PLATFORM_ADMIN_KEY = before;
    }
  });

  it('without observability env, keeps logs and metrics in Postgres', async () => {
    const ctx = await contextFromEnv({
      DATABASE_URL: 'postgres://tollgate@127.0.0.1:1/none', TOLLGATE_SKIP_MIGRATIONS: '1',
      TOLLGATE_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:111111111111:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      TOLLGATE_METRICS_STORE: 'postgres',
    }, { secretsClient: fakeClient({}) });
    expect(ctx.logStore).toBeUndefined();
    expect(ctx.metricsStore).toBeUndefined();
    await ctx.db.close();
  });
});
