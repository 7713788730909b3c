import type { SqlDatabase, SqlQueryable } from '../../core/db.js';
import { logContext } from '../../core/metrics.js';
import type { ControlPlaneContext } from '../context.js';

/**
 * Full log bodies. Control-plane mode: the gateway's Encryption SDK message is kept as is (file or
 * S3 when the control plane has a log store, else the `log_bodies` table) and decrypted only when
 * a user opens the log. Customer mode: the control plane asks the gateway that wrote it.
 */
export async function putControlPlaneLog(ctx: ControlPlaneContext, db: SqlQueryable, org: string, key: string, ciphertext: string): Promise<void> {
  if (ctx.logStore) return ctx.logStore.put(key, ciphertext);
  await db.query(
    `INSERT INTO log_bodies (organisation_id, key, body) VALUES ($1, $2, $3)
     ON CONFLICT (organisation_id, key) DO UPDATE SET body = EXCLUDED.body`,
    [org, key, ciphertext],
  );
}

export interface IndexedLog {
  id: string;
  organisation_id: string;
  workspace_id: string | null;
  source_id: string | null;
  log_location: string | null;
  log_key: string | null;
  log_token: string | null;
}

export type LogBody = { ok: true; log: unknown } | { ok: false; status: number; message: string };

async function fromControlPlane(ctx: ControlPlaneContext, db: SqlDatabase, row: IndexedLog): Promise<LogBody> {
  let ciphertext: string | undefined;
  if (ctx.logStore) ciphertext = await ctx.logStore.get(row.log_key!);
  else {
    const { rows } = await db.query<{ body: string }>('SELECT body FROM log_bodies WHERE organisation_id = $1 AND key = $2', [row.organisation_id, row.log_key]);
    ciphertext = rows[0]?.body;
  }
  if (ciphertext === undefined) return { ok: false, status: 404, message: 'the log body has not arrived (yet) or was deleted' };
  try {
    const plain = await ctx.keyring.decrypt(ciphertext, logContext(row.organisation_id, row.workspace_id, row.id));
    return { ok: true, log: JSON.parse(plain.toString('utf8')) };
  } catch {
    // With BYOK the control plane cannot decrypt: such deployments keep logs in the customer's cloud.
    return { ok: false, status: 502, message: 'the log body could not be decrypted by the control plane' };
  }
}

async function fromGateway(db: SqlDatabase, row: IndexedLog): Promise<LogBody> {
  const { rows } = await db.query<{ gateway_url: string }>(
    'SELECT gateway_url FROM data_plane_endpoints WHERE organisation_id = $1 AND credential_id = $2',
    [row.organisation_id, row.source_id],
  );
  const base = rows[0]?.gateway_url;
  if (!base || !row.log_token) return { ok: false, status: 404, message: 'the data plane that wrote this log is unknown' };
  const url = `${base.replace(/\/+$/, '')}/v1/logs/${encodeURIComponent(row.id)}?key=${encodeURIComponent(row.log_key!)}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${row.log_token}` }, signal: AbortSignal.timeout(10_000) });
  } catch {
    return { ok: false, status: 502, message: 'the data plane that keeps this log is unreachable' };
  }
  if (res.status === 404) return { ok: false, status: 404, message: 'the data plane no longer has this log' };
  if (!res.ok) return { ok: false, status: 502, message: `the data plane answered ${res.status}` };
  try {
    return { ok: true, log: await res.json() };
  } catch {
    return { ok: false, status: 502, message: 'the data plane sent an unreadable log' };
  }
}

export function fetchLogBody(ctx: ControlPlaneContext, db: SqlDatabase, row: IndexedLog): Promise<LogBody> {
  if (!row.log_key || !row.log_location) return Promise.resolve({ ok: false, status: 404, message: 'no full log was kept for this request' });
  return row.log_location === 'control-plane' ? fromControlPlane(ctx, db, row) : fromGateway(db, row);
}
