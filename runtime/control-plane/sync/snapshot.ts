import type { SqlDatabase, SqlQueryable } from '../../core/db.js';
import { SYNC_PROTOCOL_VERSION, type SyncSnapshot } from '../../core/sync-contract.js';
import type { ApiKeyRow } from '../db/api-keys-repo.js';
import type { VirtualKeyRow } from '../db/virtual-keys-repo.js';
import type { ConfigRow } from '../db/configs-repo.js';
import { asApp, setTenant } from '../db/tenant.js';
import { syncGuardrails, syncPricing, syncPromptPartials, syncPrompts } from '../db/prompt-sync.js';
import { apiKeyEntry, configEntry, virtualKeyEntry, workspaceEntry } from './delta.js';


/**
 * The whole org at one revision. Read under REPEATABLE READ so the revision and the rows agree:
 * a gateway that stores this snapshot as version N really holds the state of revision N.
 * Deleted rows are simply absent; revoked API keys stay in, marked, so the gateway rejects them.
 * Archived configs are left out, like deleted ones.
 */
export async function buildSnapshot(db: SqlDatabase, organisationId: string): Promise<SyncSnapshot | undefined> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    // Row-level security: read as the app role, scoped to this org only.
    await asApp(tx);
    await setTenant(tx, organisationId);
    const org = await tx.query<{ revision: number | string }>('SELECT revision FROM organisations WHERE id = $1', [organisationId]);
    if (!org.rows[0]) return undefined;
    const revision = Number(org.rows[0].revision);
    const memo = recent.get(db);
    const known = memo?.get(organisationId);
    if (known && known.version === revision) return { ...known, generated_at: new Date().toISOString() };
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
    const virtualKeys = await rowsAsJson<VirtualKeyRow>(
      tx,
      'SELECT * FROM virtual_keys WHERE organisation_id = $1',
      [organisationId],
    );
    const snapshot: SyncSnapshot = {
      protocol: SYNC_PROTOCOL_VERSION,
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
    remember(db, snapshot);
    return snapshot;
  });
}

/**
 * The last full snapshot of a few orgs, per database: every change bumps the org's revision (the
 * change-log triggers, or `mutateOrg`), so a snapshot of the same revision is the same data, and
 * a fleet of gateways starting together (or one gateway restarting) costs one build, not one each.
 * Callers must not mutate the returned object (they only serialise it).
 */
const recent = new WeakMap<SqlDatabase, Map<string, SyncSnapshot>>();
const REMEMBERED_ORGS = 4;
function remember(db: SqlDatabase, snapshot: SyncSnapshot): void {
  let memo = recent.get(db);
  if (!memo) recent.set(db, (memo = new Map()));
  memo.delete(snapshot.organisation_id);
  memo.set(snapshot.organisation_id, snapshot);
  if (memo.size > REMEMBERED_ORGS) memo.delete(memo.keys().next().value!);
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
