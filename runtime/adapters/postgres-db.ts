import pg from 'pg';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SqlDatabase, SqlQueryable } from '../core/db.js';
import { credentialsFromEnv, rdsIamToken, type AwsCredentials } from './rds-iam-token.js';

export interface PostgresDbOptions {
  /** Lambda keeps one request per instance, so a tiny pool avoids exhausting Aurora's connections. */
  maxConnections?: number;
  /** TLS on by default; `false` only for a local Postgres without TLS. */
  ssl?: boolean;
}

export interface SecretDbOptions extends PostgresDbOptions {
  /** Connect here instead of the secret's host, e.g. to the RDS Proxy endpoint. */
  host?: string;
}

/** A `pg` Pool behind the SqlDatabase port. */
export function postgresDb(connection: string | pg.PoolConfig, opts: PostgresDbOptions = {}): SqlDatabase {
  const base: pg.PoolConfig = typeof connection === 'string' ? { connectionString: connection } : connection;
  const pool = new pg.Pool({
    ...base,
    max: opts.maxConnections ?? base.max ?? 10,
    // Certificates are verified: in Lambda set NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem for the RDS CA.
    ...(opts.ssl === undefined ? {} : { ssl: opts.ssl ? { rejectUnauthorized: true } : false }),
  });
  // An idle client that the server drops (failover, restart, pg_terminate_backend) emits 'error' on the
  // pool; without a listener that would crash the process. The pool replaces the client on next use.
  pool.on('error', () => undefined);
  const wrap = (client: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query(sql, params as unknown[]);
      return { rows: result.rows as T[] };
    },
  });
  return {
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const value = await fn(wrap(client));
        await client.query('COMMIT');
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** The JSON shape RDS / Aurora writes into its Secrets Manager secret. */
interface RdsSecret {
  host: string;
  port?: number | string;
  username: string;
  password: string;
  dbname?: string;
}

/** Builds the pool from an RDS-format secret (`TOLLGATE_DB_SECRET_ARN`), so no password sits in env. */
export async function postgresDbFromSecret(
  secretArn: string,
  { host, ...opts }: SecretDbOptions = {},
  client = new SecretsManagerClient({}),
): Promise<SqlDatabase> {
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (!out.SecretString) throw new Error('database secret has no SecretString');
  const secret = JSON.parse(out.SecretString) as RdsSecret;
  return postgresDb(
    {
      host: host ?? secret.host,
      port: secret.port === undefined ? 5432 : Number(secret.port),
      user: secret.username,
      password: secret.password,
      database: secret.dbname ?? 'postgres',
    },
    { ssl: true, ...opts },
  );
}

export interface IamDbTarget {
  host: string;
  port?: number;
  user: string;
  database: string;
  region: string;
}

/**
 * The pool config for IAM database authentication: `password` is a function, which `pg` calls for
 * every new connection, so each connection gets a token signed with the current (rotating) role
 * credentials. TLS is required by RDS for IAM auth.
 */
export function iamPoolConfig(t: IamDbTarget, credentials: () => AwsCredentials = () => credentialsFromEnv()): pg.PoolConfig {
  const port = t.port ?? 5432;
  return {
    host: t.host,
    port,
    user: t.user,
    database: t.database,
    password: async () => rdsIamToken({ host: t.host, port, user: t.user, region: t.region, credentials: credentials() }),
  };
}

/** Aurora / RDS through IAM auth tokens instead of a stored password (`TOLLGATE_DB_IAM_USER`). */
export function postgresDbWithIam(t: IamDbTarget, opts: PostgresDbOptions = {}, credentials?: () => AwsCredentials): SqlDatabase {
  return postgresDb(iamPoolConfig(t, credentials), { ssl: true, ...opts });
}
