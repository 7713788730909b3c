import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT } from 'jose';
import { discover, oidcConfig, type OidcConfig } from '../auth/oidc-config.js';
import { sessionKey } from '../auth/session.js';
import { withAppRole } from '../db/tenant.js';
import { findUsersByEmail } from '../db/users-repo.js';
import type { RouteFn, RouteRequest } from '../http/handler.js';
import { badRequest, notFound, unauthorized } from '../http/problems.js';
import { readCookie } from '../http/session-auth.js';
import { startSession } from './auth.js';

const FLOW_COOKIE = 'tollgate_oidc';
const FLOW_TTL = 600;
const jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
const b64url = (b: Buffer) => b.toString('base64url');

function config(): OidcConfig {
  const c = oidcConfig();
  if (!c) throw notFound('single sign-on is not configured');
  return c;
}

function redirectUri(req: RouteRequest, c: OidcConfig): string {
  if (c.redirectUri) return c.redirectUri;
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
  const proto = req.headers['x-forwarded-proto'] ?? (req.ctx.devMode ? 'http' : 'https');
  return `${proto}://${host}/v1/auth/oidc/callback`;
}

const flowCookie = (value: string, devMode: boolean, maxAge = FLOW_TTL) =>
  `${FLOW_COOKIE}=${value}; Path=/v1/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${devMode ? '' : '; Secure'}`;

export const oidcRoutes: Record<string, RouteFn> = {
  /** Starts authorization-code + PKCE: state, nonce and verifier travel in a short signed cookie. */
  'GET /v1/auth/oidc/login': async (req) => {
    const c = config();
    const d = await discover(c.issuer);
    const state = b64url(randomBytes(16));
    const nonce = b64url(randomBytes(16));
    const verifier = b64url(randomBytes(32));
    const flow = await new SignJWT({ state, nonce, verifier }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(`${FLOW_TTL}s`).sign(sessionKey());
    const url = new URL(d.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: c.clientId,
      redirect_uri: redirectUri(req, c),
      scope: 'openid email profile',
      state,
      nonce,
      code_challenge: b64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
    }).toString();
    return { statusCode: 302, headers: { location: url.toString(), 'cache-control': 'no-store' }, cookies: [flowCookie(flow, req.ctx.devMode)], body: '' };
  },

  /** Exchanges the code (with the PKCE verifier), verifies the id_token against the issuer's JWKS, signs the user in. */
  'GET /v1/auth/oidc/callback': async (req) => {
    const c = config();
    const d = await discover(c.issuer);
    if (req.query.error) throw unauthorized(`single sign-on refused: ${String(req.query.error).slice(0, 100)}`);
    const code = req.query.code;
    if (!code || !req.query.state) throw badRequest('code: missing from the callback');
    let flow: { state: string; nonce: string; verifier: string };
    try {
      flow = (await jwtVerify(readCookie(req.headers, FLOW_COOKIE) ?? '', sessionKey(), { algorithms: ['HS256'] })).payload as typeof flow;
    } catch {
      throw unauthorized('single sign-on session expired; start again');
    }
    if (flow.state !== req.query.state) throw unauthorized('state mismatch');
    const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri(req, c), client_id: c.clientId, code_verifier: flow.verifier });
    if (c.clientSecret) form.set('client_secret', c.clientSecret);
    const tokenRes = await fetch(d.token_endpoint, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' }, signal: AbortSignal.timeout(10_000) });
    if (!tokenRes.ok) throw unauthorized(`token exchange failed (${tokenRes.status})`);
    const { id_token: idToken } = (await tokenRes.json()) as { id_token?: string };
    if (!idToken) throw unauthorized('the issuer returned no id_token');
    let set = jwks.get(d.jwks_uri);
    if (!set) jwks.set(d.jwks_uri, (set = createRemoteJWKSet(new URL(d.jwks_uri))));
    let claims: Record<string, unknown>;
    try {
      claims = (await jwtVerify(idToken, set, { issuer: d.issuer, audience: c.clientId })).payload;
    } catch {
      throw unauthorized('invalid id_token');
    }
    if (claims.nonce !== flow.nonce) throw unauthorized('nonce mismatch');
    if (typeof claims.email !== 'string' || claims.email_verified === false) throw unauthorized('the id_token has no verified email');
    return withAppRole(req.ctx.db, async (tx) => {
      const users = (await findUsersByEmail(tx, claims.email as string)).filter((u) => !c.organisationId || u.organisation_id === c.organisationId);
      if (users.length !== 1) throw unauthorized('no Tollgate user for this identity; ask an admin for an invite');
      const signedIn = await startSession(req, tx, users[0], 'oidc');
      return { statusCode: 302, headers: { location: c.postLoginUrl, 'cache-control': 'no-store' }, cookies: [...(signedIn.cookies ?? []), flowCookie('', req.ctx.devMode, 0)], body: '' };
    });
  },
};
