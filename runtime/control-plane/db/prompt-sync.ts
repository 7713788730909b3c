import type { SqlQueryable } from '../../core/db.js';
import type { SyncGuardrail, SyncPrice, SyncPrompt, SyncPromptPartial } from '../../core/prompt-contract.js';
import { mergedPrices } from '../pricing/catalogue.js';
import { priceOverrides, type GuardrailRow } from './catalogue-repo.js';
import type { PromptVersionRow } from './prompts-repo.js';

/**
 * Prompts and partials as the sync snapshot carries them (optional arrays `prompts` and
 * `prompt_partials`). Each prompt carries its labels and only the versions a label points at.
 * Runs in the snapshot's transaction, already scoped to the org by row-level security.
 */
export async function syncPrompts(tx: SqlQueryable, organisationId: string, ids?: string[]): Promise<SyncPrompt[]> {
  // `ids` (a delta): only those prompts; absent (a full snapshot): all of them.
  const only = ids ?? null;
  const prompts = await tx.query<{ id: string; slug: string; workspace_id: string }>(
    `SELECT id, slug, workspace_id FROM prompts WHERE organisation_id = $1 AND status = 'active' AND ($2::text[] IS NULL OR id = ANY($2)) ORDER BY id`,
    [organisationId, only],
  );
  const labels = await tx.query<{ prompt_id: string; label: string; version: number }>(
    'SELECT prompt_id, label, version FROM prompt_labels WHERE organisation_id = $1 AND ($2::text[] IS NULL OR prompt_id = ANY($2))',
    [organisationId, only],
  );
  const versions = await tx.query<PromptVersionRow>(
    `SELECT v.* FROM prompt_versions v JOIN prompt_labels l ON l.prompt_id = v.prompt_id AND l.version = v.version
     WHERE v.organisation_id = $1 AND ($2::text[] IS NULL OR v.prompt_id = ANY($2)) GROUP BY v.id ORDER BY v.prompt_id, v.version`,
    [organisationId, only],
  );
  return prompts.rows.map((p) => ({
    id: p.id,
    slug: p.slug,
    workspace_id: p.workspace_id,
    labels: Object.fromEntries(labels.rows.filter((l) => l.prompt_id === p.id).map((l) => [l.label, l.version])),
    versions: versions.rows
      .filter((v) => v.prompt_id === p.id)
      .map((v) => ({
        version: v.version,
        messages: v.messages,
        parameters: v.parameters,
        model: v.model,
        virtual_key: v.virtual_key,
        provider: v.provider,
        tools: v.tools,
        ...(v.tool_choice === null || v.tool_choice === undefined ? {} : { tool_choice: v.tool_choice }),
      })),
  }));
}

export async function syncPromptPartials(tx: SqlQueryable, organisationId: string, ids?: string[]): Promise<SyncPromptPartial[]> {
  const { rows } = await tx.query<SyncPromptPartial>(
    `SELECT p.id, p.slug, p.name, p.workspace_id, p.default_version AS version, v.string
     FROM prompt_partials p JOIN prompt_partial_versions v ON v.partial_id = p.id AND v.version = p.default_version
     WHERE p.organisation_id = $1 AND p.status = 'active' AND ($2::text[] IS NULL OR p.id = ANY($2)) ORDER BY p.id`,
    [organisationId, ids ?? null],
  );
  return rows.map((r) => ({ ...r, version: Number(r.version) }));
}

export async function syncGuardrails(tx: SqlQueryable, organisationId: string, ids?: string[]): Promise<SyncGuardrail[]> {
  const { rows } = await tx.query<GuardrailRow>(
    `SELECT * FROM guardrails WHERE organisation_id = $1 AND status = 'active' AND ($2::text[] IS NULL OR id = ANY($2)) ORDER BY id`,
    [organisationId, ids ?? null],
  );
  return rows.map((g) => ({ id: g.id, slug: g.slug, workspace_id: g.workspace_id, name: g.name, checks: g.checks, actions: g.actions, version: g.version }));
}

/** The shipped catalogue with the org's overrides applied: what the gateway prices with. */
export async function syncPricing(tx: SqlQueryable, organisationId: string): Promise<SyncPrice[]> {
  return mergedPrices(await priceOverrides(tx, organisationId)).map(({ provider, model, input, output, cached_input }) => ({ provider, model, input, output, cached_input }));
}
