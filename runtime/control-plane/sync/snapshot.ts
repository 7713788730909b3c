import type { SqlDatabase } from '../../core/db.js';
import { SYNC_PROTOCOL_VERSION, type SyncSnapshot } from '../../core/sync-contract.js';
import type { ApiKeyRow } from '../db/api-keys-repo.js';
import type { VirtualKeyRow } from '../db/virtual-keys-repo.js';
import type { ConfigRow } from '../db/configs-repo.js';
import { asApp, setTenant } from '../db/tenant.js';
import { syncGuardrails, syncPricing, syncPromptPartials, syncPrompts } from '../db/prompt-sync.js';
import { apiKeyEntry, configEntry, virtualKeyEntry } from './delta.js';


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
      api_keys: apiKeys.rows.map(apiKeyEntry),
      configs: configs.rows.map(configEntry),
      virtual_keys: virtualKeys.rows.map(virtualKeyEntry),
      // Optional arrays (control-plane depth): prompts with their labelled versions, published partials.
      prompts: await syncPrompts(tx, organisationId),
      prompt_partials: await syncPromptPartials(tx, organisationId),
      guardrails: await syncGuardrails(tx, organisationId),
      pricing: await syncPricing(tx, organisationId),
    };
  });
}
