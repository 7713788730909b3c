/** Seeds a control plane with the issue-5 scale org (shared by the sync benchmarks). */
import { virtualKeyContext, type Keyring } from '../runtime/core/keyring.js';
import { newSecret } from '../runtime/core/secrets.js';
import type { RunningControlPlane } from '../runtime/control-plane/server.js';

export interface ScaleCounts {
  apiKeys: number;
  virtualKeys: number;
  configs: number;
  prompts: number;
}

export const scaleFromEnv = (): ScaleCounts => ({
  apiKeys: Number(process.env.BENCH_API_KEYS ?? 50_000),
  virtualKeys: Number(process.env.BENCH_VIRTUAL_KEYS ?? 10_000),
  configs: Number(process.env.BENCH_CONFIGS ?? 1_000),
  prompts: Number(process.env.BENCH_PROMPTS ?? 1_000),
});

/**
 * API keys (hashes only), configs routing to two virtual keys each, virtual keys each really
 * encrypted with `keyring` (their `custom_host` is `upstream` when given), prompts with one labelled
 * version. Rows are inserted directly: the API would take minutes for 60,000 objects.
 */
export async function seedScale(cp: RunningControlPlane, keyring: Keyring, n: ScaleCounts, upstream?: string): Promise<number> {
  const org = cp.organisationId;
  const ws = cp.defaultWorkspaceId;
  const t0 = Date.now();
  await cp.db.query(
    `INSERT INTO api_keys (id, organisation_id, workspace_id, key_hash, masked_key, name, scope, type, scopes)
     SELECT 'bk-' || g, $1, $2, md5('k' || g) || md5('h' || g), 'pk-****', 'bench ' || g, 'workspace', 'service', '["completions.write"]'::jsonb
     FROM generate_series(1, $3) g`,
    [org, ws, n.apiKeys],
  );
  await cp.db.query(
    `INSERT INTO configs (id, organisation_id, workspace_id, slug, name) SELECT 'bc-' || g, $1, $2, 'cfg-' || g, 'cfg ' || g FROM generate_series(1, $3) g`,
    [org, ws, n.configs],
  );
  await cp.db.query(
    `INSERT INTO config_versions (id, organisation_id, config_id, version, name, config)
     SELECT 'bcv-' || g, $1, 'bc-' || g, 1, 'cfg ' || g,
       jsonb_build_object('strategy', jsonb_build_object('mode', 'fallback'), 'targets', jsonb_build_array(jsonb_build_object('virtual_key', 'vk-' || g), jsonb_build_object('virtual_key', 'vk-' || (g + 1))))
     FROM generate_series(1, $2) g`,
    [org, n.configs],
  );
  const options = JSON.stringify(upstream ? { custom_host: upstream } : {});
  for (let start = 1; start <= n.virtualKeys; start += 1000) {
    const ids: string[] = [];
    const slugs: string[] = [];
    const sealed: string[] = [];
    for (let i = start; i < Math.min(start + 1000, n.virtualKeys + 1); i++) {
      ids.push(`bv-${i}`);
      slugs.push(`vk-${i}`);
      sealed.push(await keyring.encrypt(`sk-bench-${i}-${newSecret('', 12)}`, virtualKeyContext(org, ws, `vk-${i}`)));
    }
    await cp.db.query(
      `INSERT INTO virtual_keys (id, organisation_id, workspace_id, slug, name, provider, encrypted_key, masked_key, options)
       SELECT id, $1, $2, slug, slug, 'openai', enc, 'sk-****', $6::jsonb FROM unnest($3::text[], $4::text[], $5::text[]) AS t(id, slug, enc)`,
      [org, ws, ids, slugs, sealed, options],
    );
  }
  if (n.prompts > 0) {
    await cp.db.query(
      `INSERT INTO prompts (id, organisation_id, workspace_id, slug, name) SELECT 'bp-' || g, $1, $2, 'prompt-' || g, 'prompt ' || g FROM generate_series(1, $3) g`,
      [org, ws, n.prompts],
    );
    await cp.db.query(
      `INSERT INTO prompt_versions (id, organisation_id, prompt_id, version, messages, model, virtual_key)
       SELECT 'bpv-' || g, $1, 'bp-' || g, 1,
         jsonb_build_array(jsonb_build_object('role', 'system', 'content', 'You are bench prompt ' || g || '.'), jsonb_build_object('role', 'user', 'content', 'Answer {{question}} briefly.')),
         'gpt-4o-mini', 'vk-' || g
       FROM generate_series(1, $2) g`,
      [org, n.prompts],
    );
    await cp.db.query(
      `INSERT INTO prompt_labels (organisation_id, prompt_id, label, version) SELECT $1, 'bp-' || g, 'production', 1 FROM generate_series(1, $2) g`,
      [org, n.prompts],
    );
  }
  return (Date.now() - t0) / 1000;
}
