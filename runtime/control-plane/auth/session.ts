import { createHash, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

/**
 * UI sessions: a short JWT (HS256, signed with jose) in an HttpOnly, SameSite=Lax cookie, Secure
 * outside dev mode. The key comes from `TOLLGATE_SESSION_SECRET` (in AWS, from Secrets Manager)
 * or `configureSessions` (the local server); without either, a random per-process key is used,
 * which only means sessions do not survive a restart.
 */
export const SESSION_COOKIE = 'tollgate_session';
export const SESSION_TTL_SECONDS = 12 * 3600;
const ISSUER = 'tollgate-control-plane';

let configured: Uint8Array | undefined;
const fallback = randomBytes(32);

export function configureSessions(secret: string | Uint8Array): void {
  configured = typeof secret === 'string' ? createHash('sha256').update(secret).digest() : secret;
}

/** The HS256 key for sessions (and the OIDC flow cookie). */
export function sessionKey(): Uint8Array {
  if (configured) return configured;
  const env = process.env.TOLLGATE_SESSION_SECRET;
  return env ? createHash('sha256').update(env).digest() : fallback;
}

export interface SessionClaims {
  userId: string;
  organisationId: string;
  /** How the user signed in: `password` or `oidc`. */
  method: string;
  /** The JWT's `jti`: the row in `sessions` that must still be live (db/sessions-repo.ts). */
  sessionId: string;
}

export async function signSession(claims: SessionClaims, ttlSeconds = SESSION_TTL_SECONDS): Promise<string> {
  return new SignJWT({ org: claims.organisationId, amr: [claims.method] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.userId)
    .setJti(claims.sessionId)
    .setIssuer(ISSUER)
    .setAudience(ISSUER)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(sessionKey());
}

export async function verifySession(token: string): Promise<SessionClaims | undefined> {
  try {
    const { payload } = await jwtVerify(token, sessionKey(), { issuer: ISSUER, audience: ISSUER, algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || typeof payload.org !== 'string' || typeof payload.jti !== 'string') return undefined;
    const amr = Array.isArray(payload.amr) ? String(payload.amr[0]) : 'password';
    return { userId: payload.sub, organisationId: payload.org, method: amr, sessionId: payload.jti };
  } catch {
    return undefined;
  }
}

export function sessionCookie(token: string, devMode: boolean, maxAge = SESSION_TTL_SECONDS): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${devMode ? '' : '; Secure'}`;
}

export function clearedSessionCookie(devMode: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${devMode ? '' : '; Secure'}`;
}
