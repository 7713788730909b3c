import type { SqlQueryable } from '../../core/db.js';
import { newId } from '../../core/secrets.js';
import { jsonParam } from './json-param.js';

export interface WorkspaceRow {
  id: string;
  organisation_id: string;
  slug: string;
  name: string;
  description: string | null;
  defaults: Record<string, unknown> | null;
  /** Portkey's `rate_limits`, enforced by the gateways for every key of the workspace. */
  rate_limits: unknown[] | null;
  is_default: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export async function listWorkspaces(db: SqlQueryable, orgId: string, limit: number, offset: number) {
  const { rows } = await db.query<WorkspaceRow>(
    'SELECT * FROM workspaces WHERE organisation_id = $1 ORDER BY is_default DESC, created_at, id LIMIT $2 OFFSET $3',
    [orgId, limit, offset],
  );
  const total = await db.query<{ n: number | string }>('SELECT count(*) AS n FROM workspaces WHERE organisation_id = $1', [orgId]);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

/** Accepts a workspace id or its slug, as Portkey accepts either. */
export async function findWorkspace(db: SqlQueryable, orgId: string, idOrSlug: string): Promise<WorkspaceRow | undefined> {
  const { rows } = await db.query<WorkspaceRow>(
    'SELECT * FROM workspaces WHERE organisation_id = $1 AND (id = $2 OR slug = $2) ORDER BY (id = $2) DESC LIMIT 1',
    [orgId, idOrSlug],
  );
  return rows[0];
}

export async function defaultWorkspace(db: SqlQueryable, orgId: string): Promise<WorkspaceRow | undefined> {
  const { rows } = await db.query<WorkspaceRow>(
    'SELECT * FROM workspaces WHERE organisation_id = $1 AND is_default ORDER BY created_at LIMIT 1',
    [orgId],
  );
  return rows[0];
}

export interface NewWorkspace {
  slug: string;
  name: string;
  description?: string | null;
  defaults?: Record<string, unknown> | null;
  rateLimits?: unknown[] | null;
  isDefault?: boolean;
}

export async function insertWorkspace(db: SqlQueryable, orgId: string, ws: NewWorkspace): Promise<WorkspaceRow> {
  const { rows } = await db.query<WorkspaceRow>(
    `INSERT INTO workspaces (id, organisation_id, slug, name, description, defaults, is_default, rate_limits)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb) RETURNING *`,
    [newId('ws-'), orgId, ws.slug, ws.name, ws.description ?? null, jsonParam(ws.defaults), ws.isDefault ?? false, jsonParam(ws.rateLimits)],
  );
  return rows[0];
}

export async function updateWorkspace(
  db: SqlQueryable,
  orgId: string,
  id: string,
  patch: { name?: string; description?: string | null; defaults?: Record<string, unknown> | null; rate_limits?: unknown[] | null },
  expectedVersion?: number,
): Promise<WorkspaceRow | undefined> {
  const { rows } = await db.query<WorkspaceRow>(
    `UPDATE workspaces SET
       name = COALESCE($3, name),
       description = CASE WHEN $4::boolean THEN $5 ELSE description END,
       defaults = CASE WHEN $6::boolean THEN $7::jsonb ELSE defaults END,
       rate_limits = CASE WHEN $9::boolean THEN $10::jsonb ELSE rate_limits END,
       version = version + 1,
       updated_at = now()
     WHERE organisation_id = $1 AND id = $2 AND ($8::int IS NULL OR version = $8) RETURNING *`,
    [orgId, id, patch.name ?? null, patch.description !== undefined, patch.description ?? null, patch.defaults !== undefined, jsonParam(patch.defaults), expectedVersion ?? null, patch.rate_limits !== undefined, jsonParam(patch.rate_limits)],
  );
  return rows[0];
}

/** Counts what still lives in a workspace; deleting a non-empty workspace is refused rather than cascaded. */
export async function workspaceContents(db: SqlQueryable, orgId: string, id: string): Promise<number> {
  const { rows } = await db.query<{ n: number | string }>(
    `SELECT (SELECT count(*) FROM configs WHERE organisation_id = $1 AND workspace_id = $2)
          + (SELECT count(*) FROM virtual_keys WHERE organisation_id = $1 AND workspace_id = $2)
          + (SELECT count(*) FROM api_keys WHERE organisation_id = $1 AND workspace_id = $2)
          + (SELECT count(*) FROM prompts WHERE organisation_id = $1 AND workspace_id = $2)
          + (SELECT count(*) FROM prompt_partials WHERE organisation_id = $1 AND workspace_id = $2)
          + (SELECT count(*) FROM guardrails WHERE organisation_id = $1 AND workspace_id = $2) AS n`,
    [orgId, id],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function deleteWorkspace(db: SqlQueryable, orgId: string, id: string): Promise<boolean> {
  const { rows } = await db.query('DELETE FROM workspaces WHERE organisation_id = $1 AND id = $2 RETURNING id', [orgId, id]);
  return rows.length > 0;
}
