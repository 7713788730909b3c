import type { GetSecretValueCommand, GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { configureSessions } from './auth/session.js';

/**
 * Secrets the control-plane Lambdas load from Secrets Manager at cold start. The CDK passes ARNs only,
 * so no secret value sits in the Lambda configuration:
 *   TOLLGATE_SESSION_SECRET_ARN        UI session signing key (every API function)
 *   TOLLGATE_PLATFORM_ADMIN_KEY_ARN    vendor platform-admin API key (the `platform` function only)
 *   TOLLGATE_OIDC_CLIENT_SECRET_ARN    client secret at an external OIDC issuer (the `auth` function only)
 * A plain `TOLLGATE_SESSION_SECRET` / `TOLLGATE_PLATFORM_ADMIN_KEY` / `TOLLGATE_OIDC_CLIENT_SECRET` in env wins over its ARN (local
 * runs, tests). Values are never logged; errors name the variable, not the value.
 */
export interface LambdaSecrets {
  sessionSecret?: string;
  platformAdminKey?: string;
  oidcClientSecret?: string;
}

/** The part of `SecretsManagerClient` the loader uses (a stub in tests). */
export interface SecretsReader {
  send(command: GetSecretValueCommand): Promise<Pick<GetSecretValueCommandOutput, 'SecretString' | 'SecretBinary'>>;
}

const SECRETS = [
  { arnVar: 'TOLLGATE_SESSION_SECRET_ARN', plainVar: 'TOLLGATE_SESSION_SECRET', field: 'sessionSecret' },
  { arnVar: 'TOLLGATE_PLATFORM_ADMIN_KEY_ARN', plainVar: 'TOLLGATE_PLATFORM_ADMIN_KEY', field: 'platformAdminKey' },
  { arnVar: 'TOLLGATE_OIDC_CLIENT_SECRET_ARN', plainVar: 'TOLLGATE_OIDC_CLIENT_SECRET', field: 'oidcClientSecret' },
] as const;

/** Reads the secrets `env` names by ARN, in parallel, with one client (created when `client` is not given). */
export async function loadLambdaSecrets(env: NodeJS.ProcessEnv = process.env, client?: SecretsReader): Promise<LambdaSecrets> {
  const wanted = SECRETS.filter((s) => env[s.arnVar]?.trim() && !env[s.plainVar]);
  const out: LambdaSecrets = {};
  for (const s of SECRETS) if (env[s.plainVar]) out[s.field] = env[s.plainVar];
  if (wanted.length === 0) return out;
  const sdk = await import('@aws-sdk/client-secrets-manager');
  const reader: SecretsReader = client ?? new sdk.SecretsManagerClient({});
  await Promise.all(wanted.map(async (s) => {
    const secretId = env[s.arnVar]!.trim();
    let res: Awaited<ReturnType<SecretsReader['send']>>;
    try {
      res = await reader.send(new sdk.GetSecretValueCommand({ SecretId: secretId }));
    } catch (err) {
      const name = (err as { name?: string }).name ?? 'Error';
      throw new Error(`could not read ${s.arnVar} (${secretId}) from Secrets Manager: ${name}`, { cause: err });
    }
    const value = res.SecretString ?? (res.SecretBinary ? Buffer.from(res.SecretBinary).toString('utf8') : undefined);
    if (!value) throw new Error(`${s.arnVar} (${secretId}) holds an empty secret`);
    out[s.field] = value;
  }));
  return out;
}

/**
 * Puts the loaded secrets where the handlers read them: the session key through `configureSessions`,
 * the platform admin key as `TOLLGATE_PLATFORM_ADMIN_KEY` and the OIDC client secret as
 * `TOLLGATE_OIDC_CLIENT_SECRET` of this process (api/platform.ts and auth/oidc-config.ts read them there).
 */
export function applyLambdaSecrets(secrets: LambdaSecrets, target: NodeJS.ProcessEnv = process.env): void {
  if (secrets.sessionSecret) configureSessions(secrets.sessionSecret);
  if (secrets.platformAdminKey) target.TOLLGATE_PLATFORM_ADMIN_KEY = secrets.platformAdminKey;
  if (secrets.oidcClientSecret) target.TOLLGATE_OIDC_CLIENT_SECRET = secrets.oidcClientSecret;
}
