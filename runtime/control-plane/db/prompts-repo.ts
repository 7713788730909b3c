import type { SqlQueryable } from '../../core/db.js';
import type { PromptMessage } from '../../core/prompt-contract.js';
import { newId } from '../../core/secrets.js';
import { jsonParam } from './json-param.js';

export interface PromptRow {
  id: string;
  organisation_id: string;
  workspace_id: string;
  slug: string;
  name: string;
  collection_id: string | null;
  status: 'active' | 'archived';
  latest_version: number;
  created_at: Date;
  updated_at: Date;
}

export interface PromptVersionRow {
  id: string;
  prompt_id: string;
  version: number;
  messages: PromptMessage[];
  parameters: Record<string, unknown>;
  model: string | null;
  virtual_key: string | null;
  provider: string | null;
  tools: unknown[] | null;
  tool_choice: unknown;
  description: string | null;
  template_metadata: Record<string, unknown> | null;
  created_at: Date;
}

export interface PromptVersionInput {
  messages: PromptMessage[];
  parameters: Record<string, unknown>;
  model?: string | null;
  virtualKey?: string | null;
  provider?: string | null;
  tools?: unknown[] | null;
  toolChoice?: unknown;
  description?: string | null;
  templateMetadata?: Record<string, unknown> | null;
}

/** By id or slug, as Portkey accepts either. */
export async function getPrompt(db: SqlQueryable, orgId: string, ref: string): Promise<PromptRow | undefined> {
  return (await db.query<PromptRow>('SELECT * FROM prompts WHERE organisation_id = $1 AND (id = $2 OR slug = $2)', [orgId, ref])).rows[0];
}

export async function listPrompts(db: SqlQueryable, orgId: string, f: { workspaceId?: string; collectionId?: string; search?: string }, limit: number, offset: number) {
  const where = `organisation_id = $1 AND ($2::text IS NULL OR workspace_id = $2) AND ($3::text IS NULL OR collection_id = $3)
    AND ($4::text IS NULL OR name ILIKE '%' || $4 || '%' OR slug ILIKE '%' || $4 || '%')`;
  const params = [orgId, f.workspaceId ?? null, f.collectionId ?? null, f.search ?? null];
  const { rows } = await db.query<PromptRow>(`SELECT * FROM prompts WHERE ${where} ORDER BY created_at, id LIMIT $5 OFFSET $6`, [...params, limit, offset]);
  const total = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM prompts WHERE ${where}`, params);
  return { rows, total: Number(total.rows[0]?.n ?? 0) };
}

export async function insertPromptVersion(db: SqlQueryable, orgId: string, promptId: string, version: number, v: PromptVersionInput): Promise<PromptVersionRow> {
  const { rows } = await db.query<PromptVersionRow>(
    `INSERT INTO prompt_versions (id, organisation_id, prompt_id, version, messages, parameters, model, virtual_key, provider, tools, tool_choice, description, template_metadata)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13::jsonb) RETURNING *`,
    [newId('pv-'), orgId, promptId, version, jsonParam(v.messages), jsonParam(v.parameters), v.model ?? null, v.virtualKey ?? null, v.provider ?? null, jsonParam(v.tools), jsonParam(v.toolChoice), v.description ?? null, jsonParam(v.templateMetadata)],
  );
  return rows[0];
}

export async function setLabel(db: SqlQueryable, orgId: string, promptId: string, label: string, version: number): Promise<void> {
  await db.query(
    `INSERT INTO prompt_labels (organisation_id, prompt_id, label, version) VALUES ($1, $2, $3, $4)
     ON CONFLICT (prompt_id, label) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
    [orgId, promptId, label, version],
  );
}

export async function labelsOf(db: SqlQueryable, promptId: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ label: string; version: number }>('SELECT label, version FROM prompt_labels WHERE prompt_id = $1 ORDER BY label', [promptId]);
  return Object.fromEntries(rows.map((r) => [r.label, r.version]));
}

/** Labels of many prompts in one query (the list): prompt id -> { label: version }. */
export async function labelsOfMany(db: SqlQueryable, promptIds: readonly string[]): Promise<Map<string, Record<string, number>>> {
  const out = new Map<string, Record<string, number>>(promptIds.map((id) => [id, {}]));
  if (promptIds.length === 0) return out;
  const { rows } = await db.query<{ prompt_id: string; label: string; version: number }>(
    'SELECT prompt_id, label, version FROM prompt_labels WHERE prompt_id = ANY($1::text[]) ORDER BY prompt_id, label',
    [promptIds],
  );
  for (const r of rows) out.get(r.prompt_id)![r.label] = r.version;
  return out;
}

/** Given versions of many prompts in one query (the list): `${promptId}@${version}` -> row. */
export async function promptVersionsMany(db: SqlQueryable, wanted: readonly { promptId: string; version: number }[]): Promise<Map<string, PromptVersionRow>> {
  if (wanted.length === 0) return new Map();
  const { rows } = await db.query<PromptVersionRow>(
    `SELECT v.* FROM unnest($1::text[], $2::int[]) AS w(prompt_id, version)
       CROSS JOIN LATERAL (SELECT * FROM prompt_versions v WHERE v.prompt_id = w.prompt_id AND v.version = w.version) v`,
    [wanted.map((w) => w.promptId), wanted.map((w) => w.version)],
  );
  return new Map(rows.map((r) => [`${r.prompt_id}@${r.version}`, r]));
}

export async function insertPrompt(db: SqlQueryable, orgId: string, p: { workspaceId: string; slug: string; name: string; collectionId?: string | null }, v: PromptVersionInput) {
  const { rows } = await db.query<PromptRow>(
    'INSERT INTO prompts (id, organisation_id, workspace_id, slug, name, collection_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
    [newId('pp-'), orgId, p.workspaceId, p.slug, p.name, p.collectionId ?? null],
  );
  const version = await insertPromptVersion(db, orgId, rows[0].id, 1, v);
  for (const label of ['latest', 'production']) await setLabel(db, orgId, rows[0].id, label, 1);
  return { prompt: rows[0], version };
}

/** A new version (moves `latest`; `production` stays until published), with the prompt row locked. */
export async function addPromptVersion(db: SqlQueryable, orgId: string, prompt: PromptRow, name: string | undefined, v: PromptVersionInput) {
  const next = prompt.latest_version + 1;
  const version = await insertPromptVersion(db, orgId, prompt.id, next, v);
  await db.query('UPDATE prompts SET latest_version = $2, name = COALESCE($3, name), updated_at = now() WHERE id = $1', [prompt.id, next, name ?? null]);
  await setLabel(db, orgId, prompt.id, 'latest', next);
  return version;
}

export async function getPromptVersion(db: SqlQueryable, promptId: string, ref: string | number): Promise<PromptVersionRow | undefined> {
  const byNumber = typeof ref === 'number' || /^\d+$/.test(ref);
  const sql = byNumber ? 'SELECT * FROM prompt_versions WHERE prompt_id = $1 AND version = $2' : 'SELECT * FROM prompt_versions WHERE prompt_id = $1 AND id = $2';
  return (await db.query<PromptVersionRow>(sql, [promptId, byNumber ? Number(ref) : ref])).rows[0];
}

export async function listPromptVersions(db: SqlQueryable, promptId: string): Promise<PromptVersionRow[]> {
  return (await db.query<PromptVersionRow>('SELECT * FROM prompt_versions WHERE prompt_id = $1 ORDER BY version DESC', [promptId])).rows;
}

export async function deletePrompt(db: SqlQueryable, orgId: string, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM prompts WHERE organisation_id = $1 AND id = $2 RETURNING id', [orgId, id])).rows.length > 0;
}
