import { z } from 'zod';
import { HttpProblem } from '../../core/errors.js';
import { hashSecret } from '../../core/secrets.js';
import { SYNC_PROTOCOL_HEADER, SYNC_PROTOCOL_VERSION } from '../../core/sync-contract.js';
import { TOLLGATE_VERSION } from '../../core/version.js';
import { findCredentialByHash, touchCredential } from '../db/credentials-repo.js';
import { orgRevision } from '../db/revision.js';
import { controlPlaneHandler } from '../http/handler.js';
import { unauthorized } from '../http/problems.js';
import { empty, json } from '../http/response.js';
import { validate } from '../http/validate.js';
import { buildSnapshot } from '../sync/snapshot.js';

const query = z.object({ since: z.coerce.number().int().nonnegative().optional() });
const responseHeaders = {
  [SYNC_PROTOCOL_HEADER]: String(SYNC_PROTOCOL_VERSION),
  'x-tollgate-control-plane-version': TOLLGATE_VERSION,
  'cache-control': 'no-store',
};

/**
 * The gateway's heartbeat. Authenticated by the data-plane credential (never an API key), scoped
 * to that credential's org. `since` equal to the org's revision means nothing changed: 304.
 */
export const handler = controlPlaneHandler('sync', {
  'GET /v1/sync/snapshot': async ({ ctx, headers, query: rawQuery }) => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
    if (!bearer) throw unauthorized('missing data-plane credential: send Authorization: Bearer <token>');
    const credential = await findCredentialByHash(ctx.db, hashSecret(bearer));
    if (!credential || credential.status !== 'active') throw unauthorized('invalid data-plane credential');

    const protocol = headers[SYNC_PROTOCOL_HEADER];
    if (protocol !== undefined && protocol.trim() !== String(SYNC_PROTOCOL_VERSION)) {
      throw new HttpProblem(
        409,
        `sync protocol mismatch: gateway speaks ${protocol.slice(0, 20)}, control plane speaks ${SYNC_PROTOCOL_VERSION}; upgrade the older side`,
      );
    }

    const { since } = validate(query, rawQuery);
    await touchCredential(ctx.db, credential.id).catch(() => undefined);
    if (since !== undefined && since === (await orgRevision(ctx.db, credential.organisation_id))) {
      return empty(304, responseHeaders);
    }
    const snapshot = await buildSnapshot(ctx.db, credential.organisation_id);
    if (!snapshot) throw unauthorized('invalid data-plane credential');
    return json(200, snapshot, responseHeaders);
  },
});
