import { parseGatewayConfig, type GatewayConfig } from '../../core/config-schema.js';
import { virtualKeyContext, type Keyring } from '../../core/keyring.js';
import type { Logger } from '../../core/logger.js';
import type { SyncPrompt } from '../../core/prompt-contract.js';
import type { SyncApiKey, SyncSnapshot } from '../../core/sync-contract.js';
import { SealedSecret } from './sealed-secret.js';

/**
 * Everything an LLM call may read, built once per snapshot and then never mutated: the server
 * swaps the whole object atomically, so a request sees one consistent version from start to end.
 */
export interface ResolvedVirtualKey {
  slug: string;
  workspaceId: string;
  provider: string;
  /** The decrypted provider key; throws (503) until `secret` was opened (see `openSecrets`). */
  readonly apiKey: string;
  /** The provider key as synced, decrypted on first use. */
  readonly secret: SealedSecret;
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
  /** Workspaces by id, for workspace rate limits (limits/index.ts). */
  workspaces?: ReadonlyMap<string, SyncSnapshot['workspaces'][number]>;
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
 * Sealed secrets from the previous state, keyed by workspace, slug and ciphertext: an unchanged
 * virtual key keeps its (possibly already opened) secret, so it is never decrypted twice (with KMS
 * each decrypt is a billed network call); a changed one gets a new ciphertext and a new entry.
 */
export type DecryptCache = ReadonlyMap<string, SealedSecret>;

/** Parsed configs from the previous state, keyed by `id@version`: unchanged configs are not re-validated. */
export type ConfigCache = ReadonlyMap<string, ResolvedConfig>;

class LazyVirtualKey implements ResolvedVirtualKey {
  constructor(
    readonly slug: string,
    readonly workspaceId: string,
    readonly provider: string,
    readonly options: Readonly<Record<string, unknown>>,
    readonly rate_limits: readonly unknown[] | null | undefined,
    readonly usage_limits: Readonly<Record<string, unknown>> | null | undefined,
    readonly secret: SealedSecret,
  ) {}

  get apiKey(): string {
    return this.secret.peek();
  }
}

/**
 * Builds the state without decrypting anything: secrets stay sealed until first use (or until the
 * background `prewarmSecrets` reaches them), so applying a full snapshot costs parsing, not crypto.
 */
export async function buildGatewayState(
  snapshot: SyncSnapshot,
  keyring: Keyring,
  logger: Logger,
  previous: DecryptCache = new Map(),
  previousConfigs: ConfigCache = new Map(),
  /** The snapshot and state this one follows: maps of arrays a delta left untouched (same array object, see mergeDelta) are reused, not rebuilt. */
  prior?: { snapshot: SyncSnapshot; state: GatewayState },
): Promise<{ state: GatewayState; decrypted: Map<string, SealedSecret>; parsedConfigs: Map<string, ResolvedConfig> }> {
  // With 50,000 API keys, rebuilding every map costs tens of ms per one-config delta.
  const unchanged = (field: 'api_keys' | 'virtual_keys' | 'configs' | 'prompts' | 'prompt_partials' | 'workspaces') =>
    prior !== undefined && prior.snapshot.organisation_id === snapshot.organisation_id && prior.snapshot[field] === snapshot[field];
  const decrypted = unchanged('virtual_keys') ? (previous as Map<string, SealedSecret>) : new Map<string, SealedSecret>();
  const virtualKeys = unchanged('virtual_keys') ? (prior!.state.virtualKeys as Map<string, ResolvedVirtualKey>) : new Map<string, ResolvedVirtualKey>();
  for (const vk of unchanged('virtual_keys') ? [] : snapshot.virtual_keys) {
    if (vk.status !== 'active') continue;
    const cacheKey = `${vk.workspace_id}\0${vk.slug}\0${vk.encrypted_key}`;
    let secret = previous.get(cacheKey);
    if (!secret) {
      const context = virtualKeyContext(snapshot.organisation_id, vk.workspace_id, vk.slug);
      secret = new SealedSecret(vk.encrypted_key, context, keyring, logger, { virtualKey: vk.slug, workspace: vk.workspace_id });
    }
    decrypted.set(cacheKey, secret);
    virtualKeys.set(vk.slug, new LazyVirtualKey(vk.slug, vk.workspace_id, vk.provider, Object.freeze({ ...vk.options }), vk.rate_limits, vk.usage_limits, secret));
  }

  const configs = unchanged('configs') ? (prior!.state.configs as Map<string, ResolvedConfig>) : new Map<string, ResolvedConfig>();
  const parsedConfigs = unchanged('configs') ? (previousConfigs as Map<string, ResolvedConfig>) : new Map<string, ResolvedConfig>();
  for (const entry of unchanged('configs') ? [] : snapshot.configs) {
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

  const prompts = unchanged('prompts') ? (prior!.state.prompts as Map<string, SyncPrompt>) : new Map<string, SyncPrompt>();
  for (const p of unchanged('prompts') ? [] : (snapshot.prompts ?? [])) {
    prompts.set(p.slug, p);
    prompts.set(p.id, p);
  }
  let promptPartials: Record<string, string>;
  if (unchanged('prompt_partials')) promptPartials = prior!.state.promptPartials as Record<string, string>;
  else {
    promptPartials = Object.create(null) as Record<string, string>;
    for (const part of snapshot.prompt_partials ?? []) promptPartials[part.name] ??= part.string;
    for (const part of snapshot.prompt_partials ?? []) promptPartials[part.slug] = part.string;
  }

  const apiKeysByHash = unchanged('api_keys') ? prior!.state.apiKeysByHash : new Map(snapshot.api_keys.map((key) => [key.key_hash, key]));
  const state: GatewayState = Object.freeze({
    organisationId: snapshot.organisation_id,
    version: snapshot.version,
    apiKeysByHash,
    configs,
    virtualKeys,
    guardrails: snapshot.guardrails,
    pricing: snapshot.pricing,
    workspaces: unchanged('workspaces') ? prior!.state.workspaces : new Map(snapshot.workspaces.map((w) => [w.id, w])),
    prompts,
    promptPartials: Object.isFrozen(promptPartials) ? promptPartials : Object.freeze(promptPartials),
  });
  return { state, decrypted, parsedConfigs };
}
