import { parseGatewayConfig, type GatewayConfig } from '../../core/config-schema.js';
import { virtualKeyContext, type Keyring } from '../../core/keyring.js';
import type { Logger } from '../../core/logger.js';
import type { SyncPrompt } from '../../core/prompt-contract.js';
import type { SyncApiKey, SyncSnapshot } from '../../core/sync-contract.js';

/**
 * Everything an LLM call may read, built once per snapshot and then never mutated: the server
 * swaps the whole object atomically, so a request sees one consistent version from start to end.
 */
export interface ResolvedVirtualKey {
  slug: string;
  workspaceId: string;
  provider: string;
  apiKey: string;
  options: Readonly<Record<string, unknown>>;
  /** Read by the limits module (rate limits and budgets per virtual key). */
  rate_limits?: readonly unknown[] | null;
  usage_limits?: Readonly<Record<string, unknown>> | null;
}

export interface ResolvedConfig {
  id: string;
  slug: string;
  workspaceId: string;
  version: number;
  config: GatewayConfig;
}

export interface GatewayState {
  organisationId: string;
  version: number;
  apiKeysByHash: ReadonlyMap<string, SyncApiKey>;
  /** Keyed by both slug and id, since `x-portkey-config` may carry either. */
  configs: ReadonlyMap<string, ResolvedConfig>;
  virtualKeys: ReadonlyMap<string, ResolvedVirtualKey>;
  /** Guardrail definitions referenced by id or slug from config hooks (older control planes send none). */
  guardrails?: SyncSnapshot['guardrails'];
  /** The pricing catalogue for cost and budgets (older control planes send none: built-in prices apply). */
  pricing?: SyncSnapshot['pricing'];
  /** Prompts keyed by both id and slug (`/v1/prompts/:id/render|completions`); absent when none were synced. */
  prompts?: ReadonlyMap<string, SyncPrompt>;
  /** Published partials' text keyed by slug and by name (org-wide, as the control plane renders them). */
  promptPartials?: Readonly<Record<string, string>>;
}

export const EMPTY_STATE: GatewayState = Object.freeze({
  organisationId: '',
  version: 0,
  apiKeysByHash: new Map(),
  configs: new Map(),
  virtualKeys: new Map(),
});

/**
 * Plaintexts from the previous state, keyed by ciphertext: an unchanged virtual key is not decrypted
 * again at every heartbeat (with KMS each decrypt is a billed network call).
 */
export type DecryptCache = ReadonlyMap<string, string>;

/** Parsed configs from the previous state, keyed by `id@version`: unchanged configs are not re-validated. */
export type ConfigCache = ReadonlyMap<string, ResolvedConfig>;

export async function buildGatewayState(
  snapshot: SyncSnapshot,
  keyring: Keyring,
  logger: Logger,
  previous: DecryptCache = new Map(),
  previousConfigs: ConfigCache = new Map(),
): Promise<{ state: GatewayState; decrypted: Map<string, string>; parsedConfigs: Map<string, ResolvedConfig> }> {
  const decrypted = new Map<string, string>();
  const virtualKeys = new Map<string, ResolvedVirtualKey>();
  await Promise.all(
    snapshot.virtual_keys
      .filter((vk) => vk.status === 'active')
      .map(async (vk) => {
        try {
          let secret = previous.get(vk.encrypted_key);
          if (secret === undefined) {
            const context = virtualKeyContext(snapshot.organisation_id, vk.workspace_id, vk.slug);
            secret = (await keyring.decrypt(vk.encrypted_key, context)).toString('utf8');
          }
          decrypted.set(vk.encrypted_key, secret);
          virtualKeys.set(vk.slug, {
            slug: vk.slug,
            workspaceId: vk.workspace_id,
            provider: vk.provider,
            apiKey: secret,
            options: Object.freeze({ ...vk.options }),
            rate_limits: vk.rate_limits,
            usage_limits: vk.usage_limits,
          });
        } catch (err) {
          // Never the ciphertext or the error's data: only which key and why.
          logger.warn('virtual key skipped: it does not decrypt with this keyring', { virtualKey: vk.slug, workspace: vk.workspace_id, reason: (err as Error).message });
        }
      }),
  );

  const configs = new Map<string, ResolvedConfig>();
  const parsedConfigs = new Map<string, ResolvedConfig>();
  for (const entry of snapshot.configs) {
    const cacheKey = `${entry.id}@${entry.version}@${entry.slug}@${entry.workspace_id}`;
    const known = previousConfigs.get(cacheKey);
    if (known) {
      parsedConfigs.set(cacheKey, known);
      configs.set(entry.slug, known);
      configs.set(entry.id, known);
      continue;
    }
    const parsed = parseGatewayConfig(entry.config);
    if (!parsed.ok) {
      logger.warn('saved config skipped: it does not validate', { config: entry.slug, reason: parsed.message });
      continue;
    }
    const resolved: ResolvedConfig = { id: entry.id, slug: entry.slug, workspaceId: entry.workspace_id, version: entry.version, config: parsed.value };
    parsedConfigs.set(cacheKey, resolved);
    configs.set(entry.slug, resolved);
    configs.set(entry.id, resolved);
  }

  const prompts = new Map<string, SyncPrompt>();
  for (const p of snapshot.prompts ?? []) {
    prompts.set(p.slug, p);
    prompts.set(p.id, p);
  }
  const promptPartials: Record<string, string> = Object.create(null);
  for (const part of snapshot.prompt_partials ?? []) promptPartials[part.name] ??= part.string;
  for (const part of snapshot.prompt_partials ?? []) promptPartials[part.slug] = part.string;

  const apiKeysByHash = new Map(snapshot.api_keys.map((key) => [key.key_hash, key]));
  const state: GatewayState = Object.freeze({
    organisationId: snapshot.organisation_id,
    version: snapshot.version,
    apiKeysByHash,
    configs,
    virtualKeys,
    guardrails: snapshot.guardrails,
    pricing: snapshot.pricing,
    prompts,
    promptPartials: Object.freeze(promptPartials),
  });
  return { state, decrypted, parsedConfigs };
}
