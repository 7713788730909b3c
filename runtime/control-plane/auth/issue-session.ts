import { newId } from '../../core/secrets.js';
import type { SqlQueryable } from '../../core/db.js';
import { insertSession } from '../db/sessions-repo.js';
import { setTenant } from '../db/tenant.js';
import { SESSION_TTL_SECONDS, signSession } from './session.js';

/**
 * Records a session row and signs its JWT (`jti` = the row's id). Without the row the token is
 * refused, so every session a browser holds can be listed and revoked server-side.
 */
export async function issueSession(
  tx: SqlQueryable,
  user: { id: string; organisation_id: string },
  method: string,
  from: { sourceIp?: string | null; userAgent?: string | null } = {},
  ttlSeconds = SESSION_TTL_SECONDS,
): Promise<{ token: string; sessionId: string }> {
  const sessionId = newId('ses-');
  await setTenant(tx, user.organisation_id);
  await insertSession(tx, user.organisation_id, { id: sessionId, userId: user.id, method, ...from, expiresAt: new Date(Date.now() + ttlSeconds * 1000) });
  const token = await signSession({ userId: user.id, organisationId: user.organisation_id, method, sessionId }, ttlSeconds);
  return { token, sessionId };
}
