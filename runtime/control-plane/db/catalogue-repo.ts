import type { SqlQueryable } from '../../core/db.js';
import { newId } from '../../core/secrets.js';
import type { PriceEntry } from '../pricing/catalogue.js';
import { jsonParam } from './json-param.js';

export interface GuardrailRow {
  id: string;
  organisation_id: string;
  workspace_id: string;
  slug: string;
  name: string;
  checks: Record<string, unknown>[];
  actions: Record<string, unknown>;
  status: 'active' | 'archived';
  version: number;
  created_at: Date;
  updated_at: Date;
}

export async function getGuardrail(db: SqlQueryable, orgId: string, ref: string): Promise<GuardrailRow | undefined> {
  return (await db.query<GuardrailRow>('SELECT * FROM guardrails WHERE organisation_id = $1 AND (id = $2 OR slug = $2)', [orgId, ref])).rows[0];
}

export async function listGuardrails(db: SqlQueryable, orgId: string, workspaceId: string | undefined, limit: number, offset: number) {
  const where = 'organisation_id = $1 AND ($2::text IS NULL OR workspace_id = $2)';
  const { rows } = await db.query<GuardrailRow>(`SELECT * FROM guardrails WHERE ${where} ORDER BY created_at, id LIMIT $3 OFFSET $4`, [orgId, workspaceId ?? null, limit, offset]);
  const total = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM guardrails WHERE ${where}`, [orgId, workspaceId ?? null]);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

export async function insertGuardrail(db: SqlQueryable, orgId: string, g: { workspaceId: string; slug: string; name: string; checks: unknown[]; actions: unknown }) {
  return (await db.query<GuardrailRow>(
    'INSERT INTO guardrails (id, organisation_id, workspace_id, slug, name, checks, actions) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb) RETURNING *',
    [newId('gr-'), orgId, g.workspaceId, g.slug, g.name, jsonParam(g.checks), jsonParam(g.actions ?? {})],
  )).rows[0];
}

export async function updateGuardrail(db: SqlQueryable, orgId: string, id: string, p: { name?: string; checks?: unknown[]; actions?: unknown; status?: string }, expected?: number) {
  return (await db.query<GuardrailRow>(
    `UPDATE guardrails SET name = COALESCE($3, name), checks = COALESCE($4::jsonb, checks), actions = COALESCE($5::jsonb, actions),
       status = COALESCE($6, status), version = version + 1, updated_at = now()
     WHERE organisation_id = $1 AND id = $2 AND ($7::int IS NULL OR version = $7) RETURNING *`,
    [orgId, id, p.name ?? null, jsonParam(p.checks), jsonParam(p.actions), p.status ?? null, expected ?? null],
  )).rows[0];
}

export async function deleteGuardrail(db: SqlQueryable, orgId: string, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM guardrails WHERE organisation_id = $1 AND id = $2 RETURNING id', [orgId, id])).rows.length > 0;
}

export async function priceOverrides(db: SqlQueryable, orgId: string): Promise<(PriceEntry & { version: number })[]> {
  const { rows } = await db.query<PriceEntry & { version: number }>(
    'SELECT provider, model, input, output, cached_input, version FROM pricing_overrides WHERE organisation_id = $1',
    [orgId],
  );
  return rows.map((r) => ({ ...r, input: Number(r.input), output: Number(r.output), cached_input: r.cached_input === null ? null : Number(r.cached_input) }));
}

export async function upsertPrice(db: SqlQueryable, orgId: string, p: PriceEntry, expected?: number): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO pricing_overrides (organisation_id, provider, model, input, output, cached_input) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (organisation_id, provider, model) DO UPDATE SET input = EXCLUDED.input, output = EXCLUDED.output,
       cached_input = EXCLUDED.cached_input, version = pricing_overrides.version + 1, updated_at = now()
       WHERE $7::int IS NULL OR pricing_overrides.version = $7
     RETURNING version`,
    [orgId, p.provider, p.model, p.input, p.output, p.cached_input, expected ?? null],
  );
  return rows.length > 0;
}

export async function deletePrice(db: SqlQueryable, orgId: string, provider: string, model: string): Promise<boolean> {
  return (await db.query('DELETE FROM pricing_overrides WHERE organisation_id = $1 AND provider = $2 AND model = $3 RETURNING model', [orgId, provider, model])).rows.length > 0;
}
