import type { SqlDatabase } from '../../core/db.js';
import { SYNC_PROTOCOL_VERSION, type SyncApiKey, type SyncSnapshot } from '../../core/sync-contract.js';
import type { ApiKeyRow } from '../db/api-keys-repo.js';
import type { VirtualKeyRow } from '../db/virtual-keys-repo.js';
import type { ConfigRow } from '../db/configs-repo.js';
import { asApp, setTenant } from '../db/tenant.js';
import { syncGuardrails, syncPricing, syncPromptPartials, syncPrompts } from '../db/prompt-sync.js';

function syncDefaults(defaults: Record<string, unknown> | null): SyncApiKey['defaults'] {
  if (!defaults) return null;
  const out: NonNullable<SyncApiKey['defaults']> = {};
  if (typeof defaults.config_id === 'string') out.config_id = defaults.config_id;
  if (defaults.metadata && typeof defaults.metadata === 'object') {
    out.metadata = Object.fromEntries(Object.entries(defaults.metadata).map(([k, v]) => [k, String(v)]));
  }
  return out;
}

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
    const [workspaces, apiKeys, configs, virtualKeys] = [
      await tx.query<{ id: string; slug: string }>('SELECT id, slug FROM workspaces WHERE organisation_id = $1 ORDER BY id', [organisationId]),
      await tx.query<ApiKeyRow>('SELECT * FROM api_keys WHERE organisation_id = $1 ORDER BY id', [organisationId]),
      await tx.query<ConfigRow>(
        `SELECT c.*, v.config FROM configs c JOIN config_versions v ON v.config_id = c.id AND v.version = c.latest_version
         WHERE c.organisation_id = $1 AND c.status = 'active' ORDER BY c.id`,
        [organisationId],
      ),
      await tx.query<VirtualKeyRow>('SELECT * FROM virtual_keys WHERE organisation_id = $1 ORDER BY id', [organisationId]),
    ];
    return {
      protocol: SYNC_PROTOCOL_VERSION,
      organisation_id: organisationId,
      version: Number(org.rows[0].revision),
      generated_at: new Date().toISOString(),
      workspaces: workspaces.rows.map((w) => ({ id: w.id, slug: w.slug })),
      api_keys: apiKeys.rows.map((k) => ({
        id: k.id,
        key_hash: k.key_hash,
        workspace_id: k.workspace_id,
        type: k.type,
        scopes: k.scopes,
        status: k.status,
        expires_at: k.expires_at ? new Date(k.expires_at).toISOString() : null,
        defaults: syncDefaults(k.defaults),
      })),
      configs: configs.rows.map((c) => ({
        id: c.id,
        slug: c.slug,
        workspace_id: c.workspace_id,
        version: c.latest_version,
        config: c.config,
      })),
      virtual_keys: virtualKeys.rows.map((v) => ({
        id: v.id,
        slug: v.slug,
        workspace_id: v.workspace_id,
        provider: v.provider,
        encrypted_key: v.encrypted_key,
        status: v.status,
        options: v.options,
      })),
      // Optional arrays (control-plane depth): prompts with their labelled versions, published partials.
      prompts: await syncPrompts(tx, organisationId),
      prompt_partials: await syncPromptPartials(tx, organisationId),
      guardrails: await syncGuardrails(tx, organisationId),
      pricing: await syncPricing(tx, organisationId),
    };
  });
}
