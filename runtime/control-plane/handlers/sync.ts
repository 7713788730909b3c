import { z } from 'zod';
import { DATA_PLANE_TTL_SECONDS } from '../../core/data-plane-registry.js';
import { HttpProblem } from '../../core/errors.js';
import { hashSecret } from '../../core/secrets.js';
import {
  GATEWAY_VERSION_HEADER,
  HEARTBEAT_HEADER,
  heartbeatSchema,
  MIN_GATEWAY_VERSION,
  SUPPORTED_SYNC_PROTOCOLS,
  SYNC_FEATURES_HEADER,
  SYNC_PROTOCOL_HEADER,
  SYNC_PROTOCOL_VERSION,
  SYNC_SIGNATURE_HEADER,
  WAIT_DELTA_FEATURE,
} from '../../core/sync-contract.js';
import { deriveSyncKey, signBody } from '../../core/sync-integrity.js';
import { TOLLGATE_VERSION } from '../../core/version.js';
import { touchCredential, type DataPlaneCredentialRow } from '../db/credentials-repo.js';
import type { RouteRequest } from '../http/handler.js';
import { controlPlaneHandler } from '../http/handler.js';
import { badRequest, unauthorized } from '../http/problems.js';
import { empty, type HandlerResult } from '../http/response.js';
import { validate } from '../http/validate.js';
import { dataPlaneRegistry } from '../registry/index.js';
import { buildDelta, deltaBody } from '../sync/delta.js';
import { buildSnapshot, snapshotBody } from '../sync/materialised.js';
import { budgetUsageHeaders } from '../usage/budget-usage.js';
import { BUDGET_CLAIMS_HEADER, budgetClaimHeaders } from '../usage/budget-claims.js';
import { waitForRevision } from '../sync/watch.js';

const query = z.object({ since: z.coerce.number().int().nonnegative().optional() });
const waitQuery = z.object({
  since: z.coerce.number().int().nonnegative(),
  /** Seconds; capped by TOLLGATE_SYNC_WAIT_SECONDS (default 25, under API Gateway's 30 s). */
  timeout: z.coerce.number().positive().optional(),
});

function baseHeaders(protocol: number): Record<string, string> {
  return { [SYNC_PROTOCOL_HEADER]: String(protocol), 'x-tollgate-control-plane-version': TOLLGATE_VERSION, 'cache-control': 'no-store' };
}

/** The delta-merge features the gateway announced (`x-tollgate-sync-features`, a comma list). */
function syncFeatures(headers: Record<string, string | undefined>): Set<string> {
  return new Set((headers[SYNC_FEATURES_HEADER] ?? '').slice(0, 256).split(',').map((f) => f.trim()).filter(Boolean));
}

/** `1.2.3` < `1.10.0`; pre-release and build suffixes are ignored. */
export function olderThan(version: string, minimum: string): boolean {
  const parse = (v: string) => v.split(/[-+]/)[0]!.split('.').map((n) => Number(n) || 0);
  const [a, b] = [parse(version), parse(minimum)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/**
 * The credential and its org's current revision, in one statement: every heartbeat and every wait
 * needs both, and on the 304 path the round trips are most of the control plane's cost.
 */
async function authenticateDataPlane(req: RouteRequest): Promise<{ credential: DataPlaneCredentialRow; revision: number }> {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!bearer) throw unauthorized('missing data-plane credential: send Authorization: Bearer <token>');
  const { rows } = await req.ctx.db.query<DataPlaneCredentialRow & { org_revision: string | number | null }>(
    'SELECT c.*, tollgate_org_revision(c.organisation_id) AS org_revision FROM tollgate_credential_by_hash($1) c',
    [hashSecret(bearer)],
  );
  const row = rows[0];
  if (!row || row.status !== 'active' || row.org_revision === null || row.org_revision === undefined) throw unauthorized('invalid data-plane credential');
  const { org_revision, ...credential } = row;
  return { credential, revision: Number(org_revision) };
}

/**
 * The protocol this exchange uses. No header: protocol 1 (the first gateways sent `1`, older ones
 * nothing). A protocol newer than ours: 409 (upgrade the control plane). Older than we serve, or a
 * gateway version below MIN_GATEWAY_VERSION: 426 (upgrade the gateway).
 */
function negotiate(headers: Record<string, string | undefined>): number {
  const raw = headers[SYNC_PROTOCOL_HEADER]?.trim();
  const protocol = raw === undefined || raw === '' ? 1 : Number(raw);
  const version = headers[GATEWAY_VERSION_HEADER]?.trim();
  if (version && /^\d+\.\d+/.test(version) && olderThan(version, MIN_GATEWAY_VERSION)) {
    throw new HttpProblem(
      426,
      `gateway ${version.slice(0, 32)} is older than the oldest this control plane serves (${MIN_GATEWAY_VERSION}); upgrade the gateway`,
    );
  }
  if (!Number.isInteger(protocol) || !SUPPORTED_SYNC_PROTOCOLS.includes(protocol)) {
    const newer = Number.isInteger(protocol) && protocol > SYNC_PROTOCOL_VERSION;
    throw new HttpProblem(
      newer ? 409 : 426,
      `sync protocol mismatch: gateway speaks ${raw!.slice(0, 20)}, control plane speaks ${SUPPORTED_SYNC_PROTOCOLS.join(', ')}; ` +
        (newer ? 'upgrade the control plane' : 'upgrade the gateway'),
    );
  }
  return protocol;
}

/** `payload` is serialised here unless it is already a body (a materialised snapshot's, serialised once for all gateways). */
function signed(protocol: number, credential: DataPlaneCredentialRow, payload: unknown, extra: Record<string, string> = {}): HandlerResult {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/json',
      ...baseHeaders(protocol),
      [SYNC_SIGNATURE_HEADER]: signBody(deriveSyncKey(credential.token_hash, 'payload'), body),
      ...extra,
    },
    body,
  };
}

/** Best effort and off the answer's critical path as far as possible: a registry outage never fails a sync. */
async function recordHeartbeat(req: RouteRequest, credential: DataPlaneCredentialRow, protocol: number, revision: number): Promise<void> {
  const raw = req.headers[HEARTBEAT_HEADER];
  if (!raw) return;
  let report;
  try {
    report = heartbeatSchema.parse(JSON.parse(raw));
  } catch {
    return; // a malformed report never fails a sync
  }
  const now = new Date();
  try {
    const registry = await dataPlaneRegistry(req.ctx);
    await registry.record({
      organisation_id: credential.organisation_id,
      instance_id: report.instance_id,
      gateway_version: report.gateway_version ?? req.headers[GATEWAY_VERSION_HEADER]?.slice(0, 64) ?? null,
      sync_protocol: protocol,
      synced_version: report.synced_version,
      control_plane_version: revision,
      uptime_seconds: report.uptime_seconds,
      cache: report.cache,
      sync_lag_seconds: report.sync_lag_seconds,
      push: report.push ?? false,
      last_seen_at: now.toISOString(),
      first_seen_at: now.toISOString(),
      expires_at: Math.floor(now.getTime() / 1000) + DATA_PLANE_TTL_SECONDS,
    });
  } catch (err) {
    req.ctx.logger.warn('could not record the data-plane heartbeat', { reason: (err as Error).message });
  }
}

/** `last_seen_at` bookkeeping at most once a minute per credential and process: a 304 heartbeat stays a read. */
const touchedAt = new Map<string, number>();
function touchSometimes(req: RouteRequest, credentialId: string): Promise<void> {
  const now = Date.now();
  if ((touchedAt.get(credentialId) ?? 0) > now - 60_000) return Promise.resolve();
  if (touchedAt.size > 10_000) touchedAt.clear();
  touchedAt.set(credentialId, now);
  return touchCredential(req.ctx.db, credentialId).catch(() => undefined);
}

function waitSeconds(): number {
  const n = Number(process.env.TOLLGATE_SYNC_WAIT_SECONDS);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 28) : 25;
}

/**
 * The gateway's heartbeat and push channel. Authenticated by the data-plane credential (never an
 * API key), scoped to that credential's org. See docs/sync.md for the protocol.
 */
export const handler = controlPlaneHandler('sync', {
  'GET /v1/sync/snapshot': async (req) => {
    const { credential, revision } = await authenticateDataPlane(req);
    const protocol = negotiate(req.headers);
    const { since } = validate(query, req.query);
    const org = credential.organisation_id;
    const bookkeeping = Promise.all([
      touchSometimes(req, credential.id),
      recordHeartbeat(req, credential, protocol, revision),
    ]);
    // Budget reconciliation (docs/guardrails.md): every answer, 304 included, carries the period's usage.
    const usage = budgetUsageHeaders(req.ctx.db, org, credential.token_hash, req.ctx.logger);
    const claims = budgetClaimHeaders(req.ctx.db, org, req.headers[BUDGET_CLAIMS_HEADER], req.ctx.logger);

    let result: HandlerResult;
    if (since !== undefined && since === revision) {
      result = empty(304, baseHeaders(protocol));
    } else if (protocol === 1) {
      const snapshot = await buildSnapshot(req.ctx.db, org, revision);
      if (!snapshot) throw unauthorized('invalid data-plane credential');
      result = signed(1, credential, { ...snapshot, protocol: 1, kind: undefined });
    } else {
      const answer = since === undefined || since === 0 ? ({ kind: 'full', reason: 'first sync' } as const) : await buildDelta(req.ctx.db, org, since, syncFeatures(req.headers), revision);
      if (!answer) throw unauthorized('invalid data-plane credential');
      if (answer.kind === 'unchanged') result = empty(304, baseHeaders(protocol));
      else if (answer.kind === 'delta') result = signed(2, credential, deltaBody(answer.delta), { 'x-tollgate-sync-kind': 'delta' });
      else {
        // Materialised: at `revision` or later, never older (sync/materialised.ts).
        const snapshot = await buildSnapshot(req.ctx.db, org, revision);
        if (!snapshot) throw unauthorized('invalid data-plane credential');
        result = signed(2, credential, snapshotBody(snapshot), { 'x-tollgate-sync-kind': 'full', 'x-tollgate-full-reason': answer.reason });
      }
    }
    await bookkeeping;
    result.headers = { ...result.headers, ...(await usage), ...(await claims) };
    return result;
  },

  /**
   * Long-poll: answers 200 `{ version }` as soon as the org's revision differs from `since`, 304 at
   * the timeout (25 s by default). The gateway then pulls the delta. The gateway opens it; the
   * control plane never connects into the data plane.
   */
  'GET /v1/sync/wait': async (req) => {
    const { credential, revision: current } = await authenticateDataPlane(req);
    const protocol = negotiate(req.headers);
    if (protocol < 2) throw badRequest('the wait channel needs sync protocol 2');
    const { since, timeout } = validate(waitQuery, req.query);
    const limitMs = Math.min(timeout ?? Infinity, waitSeconds()) * 1000;
    const revision = current !== since ? current : await waitForRevision(req.ctx.db, credential.organisation_id, since, limitMs);
    if (revision === undefined) return empty(304, baseHeaders(protocol));
    // Every gateway of the org wakes on this change with the same `since`: one shared delta build
    // answers them all here, and saves each its pull (request, authentication, revision read).
    const features = syncFeatures(req.headers);
    if (features.has(WAIT_DELTA_FEATURE) && since > 0) {
      const answer = await buildDelta(req.ctx.db, credential.organisation_id, since, features, revision);
      if (answer?.kind === 'delta') return signed(2, credential, deltaBody(answer.delta), { 'x-tollgate-sync-kind': 'delta' });
    }
    return signed(protocol, credential, { version: revision });
  },
});
