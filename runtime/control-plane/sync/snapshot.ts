import type { SqlQueryable } from '../../core/db.js';
import { SYNC_PROTOCOL_VERSION, type SyncSnapshot } from '../../core/sync-contract.js';
import type { ApiKeyRow } from '../db/api-keys-repo.js';
import type { VirtualKeyRow } from '../db/virtual-keys-repo.js';
import type { ConfigRow } from '../db/configs-repo.js';
import { syncGuardrails, syncPricing, syncPromptPartials, syncPrompts } from '../db/prompt-sync.js';
import { apiKeyEntry, configEntry, virtualKeyEntry, workspaceEntry } from './delta.js';


/**
 * The whole org at `revision`, read from the tables in the caller's transaction, which must be
 * REPEATABLE READ, scoped to the org and must have read `revision` itself: then the revision and
 * the rows agree, and a gateway that stores this snapshot as version N really holds revision N.
 * Deleted rows are simply absent; revoked API keys stay in, marked, so the gateway rejects them.
 * Archived configs are left out, like deleted ones. Served through materialised.ts, which keeps the
 * result and rolls it forward with the change log instead of calling this again.
 */
export async function readSnapshot(tx: SqlQueryable, organisationId: string, revision: number): Promise<SyncSnapshot> {
  const workspaces = await tx.query<{ id: string; slug: string; rate_limits: unknown[] | null }>('SELECT id, slug, rate_limits FROM workspaces WHERE organisation_id = $1 ORDER BY id', [organisationId]);
  const apiKeys = await rowsAsJson<ApiKeyRow>(
    tx,
    // Whole rows: the entry mappers (shared with the delta) decide what goes out.
    'SELECT * FROM api_keys WHERE organisation_id = $1',
    [organisationId],
  );
  const configs = await rowsAsJson<ConfigRow>(
    tx,
    `SELECT c.*, v.config FROM configs c JOIN config_versions v ON v.config_id = c.id AND v.version = c.latest_version
     WHERE c.organisation_id = $1 AND c.status = 'active'`,
    [organisationId],
  );
  const virtualKeys = await rowsAsJson<VirtualKeyRow>(tx, 'SELECT * FROM virtual_keys WHERE organisation_id = $1', [organisationId]);
  return {
    protocol: SYNC_PROTOCOL_VERSION,
    kind: 'full',
    organisation_id: organisationId,
    version: revision,
    generated_at: new Date().toISOString(),
    workspaces: workspaces.rows.map(workspaceEntry),
    api_keys: apiKeys.map(apiKeyEntry),
    configs: configs.map(configEntry),
    virtual_keys: virtualKeys.map(virtualKeyEntry),
    // Optional arrays (control-plane depth): prompts with their labelled versions, published partials.
    prompts: await syncPrompts(tx, organisationId),
    prompt_partials: await syncPromptPartials(tx, organisationId),
    guardrails: await syncGuardrails(tx, organisationId),
    pricing: await syncPricing(tx, organisationId),
  };
}

/**
 * The rows of `sql` (ordered by id), aggregated into one JSON array by the database: with 50,000
 * API keys, materialising one driver row per key costs seconds (PGlite converts every field across
 * the WASM boundary); one JSON value and JSON.parse cost a fraction. Timestamps arrive as ISO
 * strings, which the entry mappers accept like Dates.
 */
async function rowsAsJson<T>(tx: SqlQueryable, sql: string, params: unknown[]): Promise<T[]> {
  const result = await tx.query<{ rows: string | T[] | null }>(`SELECT coalesce(json_agg(r ORDER BY r.id), '[]'::json)::text AS rows FROM (${sql}) r`, params);
  const rows = result.rows[0]?.rows;
  if (!rows) return [];
  return typeof rows === 'string' ? (JSON.parse(rows) as T[]) : rows;
}
