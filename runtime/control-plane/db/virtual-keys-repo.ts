import type { SqlQueryable } from '../../core/db.js';
import { newId } from '../../core/secrets.js';
import { jsonParam } from './json-param.js';

export type VirtualKeyStatus = 'active' | 'exhausted' | 'revoked';

export interface VirtualKeyRow {
  id: string;
  organisation_id: string;
  workspace_id: string;
  slug: string;
  name: string;
  provider: string;
  encrypted_key: string;
  masked_key: string;
  note: string | null;
  options: Record<string, unknown>;
  usage_limits: Record<string, unknown> | null;
  rate_limits: unknown[] | null;
  status: VirtualKeyStatus;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export async function listVirtualKeys(db: SqlQueryable, orgId: string, workspaceId: string | undefined, limit = 100, offset = 0) {
  const where = 'organisation_id = $1 AND ($2::text IS NULL OR workspace_id = $2)';
  const { rows } = await db.query<VirtualKeyRow>(`SELECT * FROM virtual_keys WHERE ${where} ORDER BY created_at, id LIMIT $3 OFFSET $4`, [orgId, workspaceId ?? null, limit, offset]);
  const total = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM virtual_keys WHERE ${where}`, [orgId, workspaceId ?? null]);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

export async function getVirtualKey(db: SqlQueryable, orgId: string, slug: string): Promise<VirtualKeyRow | undefined> {
  const { rows } = await db.query<VirtualKeyRow>('SELECT * FROM virtual_keys WHERE organisation_id = $1 AND slug = $2', [orgId, slug]);
  return rows[0];
}

export interface NewVirtualKey {
  workspaceId: string;
  slug: string;
  name: string;
  provider: string;
  encryptedKey: string;
  maskedKey: string;
  note?: string | null;
  options: Record<string, unknown>;
  usageLimits?: Record<string, unknown> | null;
  rateLimits?: unknown[] | null;
}

export async function insertVirtualKey(db: SqlQueryable, orgId: string, vk: NewVirtualKey): Promise<VirtualKeyRow> {
  const { rows } = await db.query<VirtualKeyRow>(
    `INSERT INTO virtual_keys (id, organisation_id, workspace_id, slug, name, provider, encrypted_key, masked_key, note,
       options, usage_limits, rate_limits)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12::jsonb) RETURNING *`,
    [
      newId('vk-'),
      orgId,
      vk.workspaceId,
      vk.slug,
      vk.name,
      vk.provider,
      vk.encryptedKey,
      vk.maskedKey,
      vk.note ?? null,
      jsonParam(vk.options),
      jsonParam(vk.usageLimits),
      jsonParam(vk.rateLimits),
    ],
  );
  return rows[0];
}

export interface VirtualKeyPatch {
  name?: string;
  note?: string | null;
  encryptedKey?: string;
  maskedKey?: string;
  options?: Record<string, unknown>;
  usageLimits?: Record<string, unknown> | null;
  rateLimits?: unknown[] | null;
  status?: VirtualKeyStatus;
}

export async function updateVirtualKey(
  db: SqlQueryable,
  orgId: string,
  slug: string,
  p: VirtualKeyPatch,
  expectedVersion?: number,
): Promise<VirtualKeyRow | undefined> {
  const { rows } = await db.query<VirtualKeyRow>(
    `UPDATE virtual_keys SET
       name = COALESCE($3, name),
       note = CASE WHEN $4::boolean THEN $5 ELSE note END,
       encrypted_key = COALESCE($6, encrypted_key),
       masked_key = COALESCE($7, masked_key),
       options = COALESCE($8::jsonb, options),
       usage_limits = CASE WHEN $9::boolean THEN $10::jsonb ELSE usage_limits END,
       rate_limits = CASE WHEN $11::boolean THEN $12::jsonb ELSE rate_limits END,
       status = COALESCE($13, status),
       version = version + 1,
       updated_at = now()
     WHERE organisation_id = $1 AND slug = $2 AND ($14::int IS NULL OR version = $14) RETURNING *`,
    [
      orgId,
      slug,
      p.name ?? null,
      p.note !== undefined,
      p.note ?? null,
      p.encryptedKey ?? null,
      p.maskedKey ?? null,
      jsonParam(p.options),
      p.usageLimits !== undefined,
      jsonParam(p.usageLimits),
      p.rateLimits !== undefined,
      jsonParam(p.rateLimits),
      p.status ?? null,
      expectedVersion ?? null,
    ],
  );
  return rows[0];
}

export async function deleteVirtualKey(db: SqlQueryable, orgId: string, slug: string): Promise<boolean> {
  const { rows } = await db.query('DELETE FROM virtual_keys WHERE organisation_id = $1 AND slug = $2 RETURNING id', [orgId, slug]);
  return rows.length > 0;
}
