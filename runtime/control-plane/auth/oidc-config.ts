/**
 * OIDC single sign-on with any issuer (Cognito in AWS, or Okta, Entra ID, Google, Keycloak...).
 * Configured by env; off when TOLLGATE_OIDC_ISSUER is unset.
 * - TOLLGATE_OIDC_ISSUER          issuer URL (discovery at <issuer>/.well-known/openid-configuration)
 * - TOLLGATE_OIDC_CLIENT_ID       the app client id (the id_token audience)
 * - TOLLGATE_OIDC_CLIENT_SECRET   optional: confidential clients; PKCE is always used
 * - TOLLGATE_OIDC_REDIRECT_URI    optional: defaults to <this API>/v1/auth/oidc/callback
 * - TOLLGATE_OIDC_ORGANISATION_ID optional: the org SSO users belong to, when an email is in several
 * - TOLLGATE_OIDC_POST_LOGIN_URL  optional: where the browser goes after sign-in (default `/`)
 */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  redirectUri?: string;
  organisationId?: string;
  postLoginUrl: string;
}

export function oidcConfig(env = process.env): OidcConfig | undefined {
  if (!env.TOLLGATE_OIDC_ISSUER || !env.TOLLGATE_OIDC_CLIENT_ID) return undefined;
  return {
    issuer: env.TOLLGATE_OIDC_ISSUER.replace(/\/$/, ''),
    clientId: env.TOLLGATE_OIDC_CLIENT_ID,
    clientSecret: env.TOLLGATE_OIDC_CLIENT_SECRET || undefined,
    redirectUri: env.TOLLGATE_OIDC_REDIRECT_URI || undefined,
    organisationId: env.TOLLGATE_OIDC_ORGANISATION_ID || undefined,
    postLoginUrl: env.TOLLGATE_OIDC_POST_LOGIN_URL || '/',
  };
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

const cache = new Map<string, Promise<Discovery>>();

export function discover(issuer: string): Promise<Discovery> {
  let found = cache.get(issuer);
  if (!found) {
    found = (async () => {
      const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`OIDC discovery failed: ${res.status}`);
      const doc = (await res.json()) as Discovery;
      if (doc.issuer.replace(/\/$/, '') !== issuer) throw new Error('OIDC discovery: issuer mismatch');
      return doc;
    })();
    found.catch(() => cache.delete(issuer));
    cache.set(issuer, found);
  }
  return found;
}
