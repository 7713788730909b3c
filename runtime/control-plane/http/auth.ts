import { hashSecret } from '../../core/secrets.js';
import type { SqlQueryable } from '../../core/db.js';
import { findApiKeyByHash, type ApiKeyScope } from '../db/api-keys-repo.js';
import { findWorkspace, defaultWorkspace, type WorkspaceRow } from '../db/workspaces-repo.js';
import type { OrgRole } from '../roles.js';
import { forbidden, badRequest, unauthorized } from './problems.js';
import { sessionCaller } from './session-auth.js';

/**
 * Who is calling: an API key (`x-portkey-api-key`) or a signed-in user (session cookie, see
 * session-auth.ts). Both end up as a set of scope names: a key's own scopes, or those of the user's
 * organisation role plus, per workspace, those of their workspace roles (roles.ts).
 */
export interface Caller {
  kind: 'api_key' | 'user';
  organisationId: string;
  apiKeyId: string | null;
  userId: string | null;
  orgRole: OrgRole | null;
  /** `organisation` for org keys and org owners/admins; `workspace` for workspace keys and org members. */
  scope: ApiKeyScope;
  /** Set for workspace keys: they see and change only this workspace. */
  workspaceId: string | null;
  /** Scopes that hold organisation-wide. */
  scopes: ReadonlySet<string>;
  /** Org members only: the workspaces they belong to and what their role there allows. */
  workspaceScopes: ReadonlyMap<string, ReadonlySet<string>> | null;
  /** The scope the current route needs (set by `authorized`). */
  required: string;
}

export async function authenticate(db: SqlQueryable, headers: Record<string, string | undefined>): Promise<Caller> {
  const presented = headers['x-portkey-api-key']?.trim();
  if (!presented) {
    const fromSession = await sessionCaller(db, headers);
    if (fromSession) return fromSession;
    throw unauthorized('missing API key: send it in the x-portkey-api-key header');
  }
  const key = await findApiKeyByHash(db, hashSecret(presented));
  // One message for unknown, revoked and expired keys: the answer should not help probe keys.
  const invalid = unauthorized('invalid API key: unknown, revoked or expired');
  if (!key || key.status !== 'active') throw invalid;
  if (key.expires_at && new Date(key.expires_at).getTime() <= Date.now()) throw invalid;
  return {
    kind: 'api_key',
    organisationId: key.organisation_id,
    apiKeyId: key.id,
    userId: key.user_id,
    orgRole: null,
    scope: key.scope,
    workspaceId: key.workspace_id,
    scopes: new Set(key.scopes),
    workspaceScopes: null,
    required: '',
  };
}

/** The workspaces row-level security limits this caller to, or null for the whole organisation. */
export function rlsWorkspaces(caller: Caller): string[] | null {
  if (caller.workspaceId) return [caller.workspaceId];
  if (caller.workspaceScopes) return caller.workspaceScopes.size ? [...caller.workspaceScopes.keys()] : ['-'];
  return null;
}

function lacks(caller: Caller, scope: string): never {
  throw forbidden(caller.kind === 'user' ? `your role does not allow "${scope}"` : `this API key lacks the "${scope}" scope`);
}

/** Holds org-wide, or (org members) in at least one of their workspaces; the workspace is checked later. */
export function requireScope(caller: Caller, scope: string): void {
  if (caller.scopes.has(scope)) return;
  if (caller.workspaceScopes && [...caller.workspaceScopes.values()].some((s) => s.has(scope))) return;
  lacks(caller, scope);
}

export function requireOrganisationKey(caller: Caller, action: string): void {
  if (caller.scope !== 'organisation') {
    throw forbidden(caller.kind === 'user' ? `${action} needs the organisation owner or admin role` : `${action} needs an organisation API key`);
  }
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
  if (caller.workspaceScopes) {
    // An org member acts in their only workspace, or must say which one.
    const [only, ...more] = caller.workspaceScopes.keys();
    if (!only || more.length) throw badRequest('workspace_id: required (you belong to several workspaces, or none)');
    const ws = await findWorkspace(db, caller.organisationId, only);
    assertWorkspaceAccess(caller, ws?.id ?? null);
    return ws!;
  }
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
  if (caller.workspaceScopes) {
    const inWs = workspaceId ? caller.workspaceScopes.get(workspaceId) : undefined;
    if (!inWs) throw forbidden('you are not a member of this workspace');
    if (caller.required && !caller.scopes.has(caller.required) && !inWs.has(caller.required)) lacks(caller, caller.required);
  }
}

/**
 * A caller asking for another workspace's object gets the same 404 as for a missing one. A member
 * who can see the workspace but whose role there does not allow the route's action gets 403.
 */
export function visibleTo(caller: Caller, workspaceId: string | null): boolean {
  if (caller.workspaceId) return caller.workspaceId === workspaceId;
  if (!caller.workspaceScopes) return true;
  const inWs = workspaceId ? caller.workspaceScopes.get(workspaceId) : undefined;
  if (!inWs) return false;
  if (caller.required && !caller.scopes.has(caller.required) && !inWs.has(caller.required)) lacks(caller, caller.required);
  return true;
}

/** Everything the caller may do in one workspace: org-wide scopes plus, for members, their role there. */
export function scopesIn(caller: Caller, workspaceId: string | null): ReadonlySet<string> {
  const inWs = workspaceId ? caller.workspaceScopes?.get(workspaceId) : undefined;
  return inWs ? new Set([...caller.scopes, ...inWs]) : caller.scopes;
}
