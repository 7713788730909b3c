import type { SqlQueryable } from '../../core/db.js';
import { newId } from '../../core/secrets.js';
import { jsonParam } from './json-param.js';

export type ApiKeyScope = 'organisation' | 'workspace';
export type ApiKeyType = 'user' | 'service';
export type ApiKeyStatus = 'active' | 'revoked' | 'exhausted';

export interface ApiKeyRow {
  id: string;
  organisation_id: string;
  workspace_id: string | null;
  key_hash: string;
  masked_key: string;
  name: string;
  description: string | null;
  scope: ApiKeyScope;
  type: ApiKeyType;
  user_id: string | null;
  scopes: string[];
  status: ApiKeyStatus;
  expires_at: Date | null;
  defaults: Record<string, unknown> | null;
  usage_limits: Record<string, unknown> | null;
  rate_limits: unknown[] | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/**
 * Authentication lookup: by hash across all orgs, because the key is what tells us the org.
 * Row-level security hides other orgs' keys, so this goes through a SECURITY DEFINER function.
 */
export async function findApiKeyByHash(db: SqlQueryable, keyHash: string): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<ApiKeyRow>('SELECT * FROM tollgate_api_key_by_hash($1)', [keyHash]);
  return rows[0];
}

export async function listApiKeys(db: SqlQueryable, orgId: string, workspaceId: string | undefined, limit: number, offset: number) {
  const where = 'organisation_id = $1 AND ($2::text IS NULL OR workspace_id = $2)';
  const { rows } = await db.query<ApiKeyRow>(`SELECT * FROM api_keys WHERE ${where} ORDER BY created_at, id LIMIT $3 OFFSET $4`, [
    orgId,
    workspaceId ?? null,
    limit,
    offset,
  ]);
  const total = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM api_keys WHERE ${where}`, [orgId, workspaceId ?? null]);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

export async function getApiKey(db: SqlQueryable, orgId: string, id: string): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<ApiKeyRow>('SELECT * FROM api_keys WHERE organisation_id = $1 AND id = $2', [orgId, id]);
  return rows[0];
}

export interface NewApiKey {
  keyHash: string;
  maskedKey: string;
  name: string;
  description?: string | null;
  scope: ApiKeyScope;
  type: ApiKeyType;
  workspaceId: string | null;
  userId?: string | null;
  scopes: string[];
  expiresAt?: Date | null;
  defaults?: Record<string, unknown> | null;
  usageLimits?: Record<string, unknown> | null;
  rateLimits?: unknown[] | null;
}

export async function insertApiKey(db: SqlQueryable, orgId: string, key: NewApiKey): Promise<ApiKeyRow> {
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (id, organisation_id, workspace_id, key_hash, masked_key, name, description, scope, type,
       user_id, scopes, expires_at, defaults, usage_limits, rate_limits)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13::jsonb, $14::jsonb, $15::jsonb) RETURNING *`,
    [
      newId('ak-'),
      orgId,
      key.workspaceId,
      key.keyHash,
      key.maskedKey,
      key.name,
      key.description ?? null,
      key.scope,
      key.type,
      key.userId ?? null,
      jsonParam(key.scopes),
      key.expiresAt ?? null,
      jsonParam(key.defaults),
      jsonParam(key.usageLimits),
      jsonParam(key.rateLimits),
    ],
  );
  return rows[0];
}

export interface ApiKeyPatch {
  name?: string;
  description?: string | null;
  scopes?: string[];
  status?: ApiKeyStatus;
  expiresAt?: Date | null;
  defaults?: Record<string, unknown> | null;
  usageLimits?: Record<string, unknown> | null;
  rateLimits?: unknown[] | null;
}

export async function updateApiKey(db: SqlQueryable, orgId: string, id: string, p: ApiKeyPatch, expectedVersion?: number): Promise<ApiKeyRow | undefined> {
  // `$n::boolean` flags say "this field was sent", so an explicit null clears it and an absent field keeps it.
  const { rows } = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET
       name = COALESCE($3, name),
       description = CASE WHEN $4::boolean THEN $5 ELSE description END,
       scopes = COALESCE($6::jsonb, scopes),
       status = COALESCE($7, status),
       expires_at = CASE WHEN $8::boolean THEN $9::timestamptz ELSE expires_at END,
       defaults = CASE WHEN $10::boolean THEN $11::jsonb ELSE defaults END,
       usage_limits = CASE WHEN $12::boolean THEN $13::jsonb ELSE usage_limits END,
       rate_limits = CASE WHEN $14::boolean THEN $15::jsonb ELSE rate_limits END,
       version = version + 1,
       updated_at = now()
     WHERE organisation_id = $1 AND id = $2 AND ($16::int IS NULL OR version = $16) RETURNING *`,
    [
      orgId,
      id,
      p.name ?? null,
      p.description !== undefined,
      p.description ?? null,
      jsonParam(p.scopes),
      p.status ?? null,
      p.expiresAt !== undefined,
      p.expiresAt ?? null,
      p.defaults !== undefined,
      jsonParam(p.defaults),
      p.usageLimits !== undefined,
      jsonParam(p.usageLimits),
      p.rateLimits !== undefined,
      jsonParam(p.rateLimits),
      expectedVersion ?? null,
    ],
  );
  return rows[0];
}

export async function deleteApiKey(db: SqlQueryable, orgId: string, id: string): Promise<boolean> {
  const { rows } = await db.query('DELETE FROM api_keys WHERE organisation_id = $1 AND id = $2 RETURNING id', [orgId, id]);
  return rows.length > 0;
}

/** Rotation: a new hash and mask for the same key row; the old secret no longer matches anything. */
export async function rotateApiKey(db: SqlQueryable, orgId: string, id: string, keyHash: string, maskedKey: string, expectedVersion?: number) {
  const { rows } = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET key_hash = $3, masked_key = $4, version = version + 1, updated_at = now()
     WHERE organisation_id = $1 AND id = $2 AND ($5::int IS NULL OR version = $5) RETURNING *`,
    [orgId, id, keyHash, maskedKey, expectedVersion ?? null],
  );
  return rows[0];
}
