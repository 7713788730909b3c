import { authenticate, requireOrganisationKey } from '../http/auth.js';
import { controlPlaneHandler } from '../http/handler.js';
import { json } from '../http/response.js';
import { dataPlaneRegistry } from '../registry/index.js';

/**
 * `GET /v1/data-planes`: the gateway instances of the caller's organisation that heartbeated within
 * the registry TTL, with their version, synced version, lag, cache health and uptime. Needs an
 * organisation API key (`x-portkey-api-key`); only that org's gateways are listed.
 */
export const handler = controlPlaneHandler('data-planes', {
  'GET /v1/data-planes': async (req) => {
    const caller = await authenticate(req.ctx.db, req.headers);
    requireOrganisationKey(caller, 'listing data planes');
    const registry = await dataPlaneRegistry(req.ctx);
    const records = await registry.list(caller.organisationId);
    const now = Date.now();
    const data = records.map((r) => ({
      ...r,
      object: 'data_plane',
      revisions_behind: Math.max(0, r.control_plane_version - r.synced_version),
      seconds_since_heartbeat: Math.max(0, Math.round((now - Date.parse(r.last_seen_at)) / 100) / 10),
    }));
    return json(200, { object: 'list', total: data.length, data });
  },
});
