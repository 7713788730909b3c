import { hashSecret } from '../../core/secrets.js';
import type { SqlQueryable } from '../../core/db.js';
import { findApiKeyByHash, type ApiKeyScope } from '../db/api-keys-repo.js';
import { findWorkspace, defaultWorkspace, type WorkspaceRow } from '../db/workspaces-repo.js';
import { forbidden, badRequest, unauthorized } from './problems.js';

/** Who is calling: resolved from the `x-portkey-api-key` header on every admin request. */
export interface Caller {
  organisationId: string;
  apiKeyId: string;
  scope: ApiKeyScope;
  /** Set for workspace keys: they see and change only this workspace. */
  workspaceId: string | null;
  scopes: ReadonlySet<string>;
}

export async function authenticate(db: SqlQueryable, headers: Record<string, string | undefined>): Promise<Caller> {
  const presented = headers['x-portkey-api-key']?.trim();
  if (!presented) throw unauthorized('missing API key: send it in the x-portkey-api-key header');
  const key = await findApiKeyByHash(db, hashSecret(presented));
  // One message for unknown, revoked and expired keys: the answer should not help probe keys.
  const invalid = unauthorized('invalid API key: unknown, revoked or expired');
  if (!key || key.status !== 'active') throw invalid;
  if (key.expires_at && new Date(key.expires_at).getTime() <= Date.now()) throw invalid;
  return {
    organisationId: key.organisation_id,
    apiKeyId: key.id,
    scope: key.scope,
    workspaceId: key.workspace_id,
    scopes: new Set(key.scopes),
  };
}

export function requireScope(caller: Caller, scope: string): void {
  if (!caller.scopes.has(scope)) throw forbidden(`this API key lacks the "${scope}" scope`);
}

export function requireOrganisationKey(caller: Caller, action: string): void {
  if (caller.scope !== 'organisation') throw forbidden(`${action} needs an organisation API key`);
}

/**
 * The workspace a request acts in: `workspace_id` (id or slug) when given, else the caller's own
 * workspace for workspace keys, else the org's default workspace.
 */
export async function resolveWorkspace(db: SqlQueryable, caller: Caller, requested: unknown): Promise<WorkspaceRow> {
  if (requested !== undefined && requested !== null && requested !== '') {
    if (typeof requested !== 'string') throw badRequest('workspace_id: expected a string');
    const ws = await findWorkspace(db, caller.organisationId, requested);
    if (!ws) throw badRequest(`workspace_id: no workspace "${requested}" in this organisation`);
    assertWorkspaceAccess(caller, ws.id);
    return ws;
  }
  if (caller.workspaceId) return (await findWorkspace(db, caller.organisationId, caller.workspaceId))!;
  const ws = await defaultWorkspace(db, caller.organisationId);
  if (!ws) throw badRequest('workspace_id: this organisation has no default workspace; pass workspace_id');
  return ws;
}

/** For list endpoints: an explicit workspace filter, the caller's own workspace, or none (whole org). */
export async function workspaceFilter(db: SqlQueryable, caller: Caller, requested: unknown): Promise<string | undefined> {
  if (requested !== undefined && requested !== '') return (await resolveWorkspace(db, caller, requested)).id;
  return caller.workspaceId ?? undefined;
}

export function assertWorkspaceAccess(caller: Caller, workspaceId: string | null): void {
  if (caller.workspaceId && caller.workspaceId !== workspaceId) throw forbidden('this API key is limited to another workspace');
}

/** A workspace key asking for another workspace's resource gets the same 404 as for a missing one. */
export function visibleTo(caller: Caller, workspaceId: string | null): boolean {
  return !caller.workspaceId || caller.workspaceId === workspaceId;
}
