import type { GatewayConfig } from '../../core/config-schema.js';
import { DEFAULT_CURRENCY, type MetricRecord } from '../../core/metrics.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import type { GatewayState } from '../sync/gateway-state.js';
import type { RouteFacts } from './metric-row.js';
import { priceFor } from './pricing.js';
import type { RequestLogEntry } from './types.js';

const ENDPOINTS: [RegExp, string][] = [
  [/\/chat\/completions$/, 'chatComplete'],
  [/\/completions$/, 'complete'],
  [/\/embeddings$/, 'embed'],
  [/\/messages$/, 'messages'],
  [/\/models$/, 'listModels'],
  [/\/images\/generations$/, 'imageGenerate'],
  [/\/prompts\/[^/]+\/completions$/, 'promptComplete'],
];

/** The endpoint name for a request path (only asked on a route cache miss). */
function endpointOf(path: string): string {
  const p = path.split('?')[0];
  return ENDPOINTS.find(([re]) => re.test(p))?.[1] ?? p.slice(0, 64);
}

/** Walks `config.targets[1].targets[0]` through the config: the leaf's virtual key, and whether a fallback moved past a first target. */
function walkPath(config: GatewayConfig | undefined, path: string | undefined): { virtualKey?: string; fellBack: boolean } {
  if (!config || !path || !path.includes('[')) return { virtualKey: config?.virtual_key, fellBack: false };
  let node: GatewayConfig | undefined = config;
  let virtualKey = config.virtual_key;
  let fellBack = false;
  for (const m of path.matchAll(/targets\[(\d+)\]/g)) {
    const index = Number(m[1]);
    if (node?.strategy?.mode === 'fallback' && index > 0) fellBack = true;
    node = node?.targets?.[index];
    if (node?.virtual_key) virtualKey = node.virtual_key;
  }
  return { virtualKey, fellBack };
}

export const str = (v: unknown, max = 255): string | null => (typeof v === 'string' && v ? (v.length > max ? v.slice(0, max) : v) : null);

const keysById = new WeakMap<GatewayState, Map<string, SyncApiKey>>();

/** API keys by id, built once per synced state (the state object is immutable). */
function findKey(state: GatewayState, apiKeyId: string): SyncApiKey | undefined {
  let byId = keysById.get(state);
  if (!byId) {
    byId = new Map([...state.apiKeysByHash.values()].map((k) => [k.id, k]));
    keysById.set(state, byId);
  }
  return byId.get(apiKeyId);
}

/** The routing headers a record's route fields depend on (undefined when absent or not consulted). */
export interface RouteHeaders {
  config: string | undefined;
  virtualKey: string | undefined;
  provider: string | undefined;
  /** `x-portkey-last-used-option-index` as the response sent it. */
  optionIndex: string | undefined;
}

/** Everything RouteFacts are computed from: a slot hits when every input is the same (===) as before. */
class Slot {
  constructor(
    readonly state: GatewayState,
    readonly organisationId: string,
    readonly workspaceId: string | null,
    readonly apiKeyId: string,
    readonly config: GatewayConfig | undefined,
    readonly byEndpoint: boolean,
    readonly configHeader: string | undefined,
    readonly vkHeader: string | undefined,
    readonly providerHeader: string | undefined,
    readonly optionHeader: string | undefined,
    readonly lastUsedOptionIndex: string | undefined,
    readonly provider: string | undefined,
    readonly model: string | undefined,
    readonly endpoint: string | undefined,
    readonly path: string | undefined,
    readonly method: string,
    readonly promptId: string | undefined,
    readonly promptVersion: number | undefined,
    readonly facts: RouteFacts,
  ) {}

  matches(state: GatewayState, e: RequestLogEntry, h: RouteHeaders): boolean {
    return (
      this.state === state && this.apiKeyId === e.apiKeyId && this.config === e.config && this.model === e.model &&
      this.provider === e.provider && this.optionHeader === h.optionIndex && this.lastUsedOptionIndex === e.lastUsedOptionIndex &&
      this.configHeader === h.config && this.vkHeader === h.virtualKey && this.providerHeader === h.provider &&
      this.organisationId === e.organisationId && this.workspaceId === e.workspaceId && this.byEndpoint === (e.routeFromEndpoint === true) &&
      this.endpoint === e.endpoint && (e.endpoint !== undefined || this.path === e.path) && this.method === e.method &&
      this.promptId === e.promptId && this.promptVersion === e.promptVersion
    );
  }
}

const SLOTS = 32;

/**
 * The route part of records (workspace, key, virtual key, config id/version, prompt, provider,
 * model, endpoint, price, ...), computed once per distinct route and shared by its records. The
 * synced state is an input (by identity): a config published as a new version arrives in a new
 * state, so its records get new facts. A few dozen recent routes are kept; a miss costs what every
 * record used to cost.
 */
export class RouteFactsCache {
  private readonly slots: Slot[] = [];
  private last = 0;
  private next = 0;
  misses = 0;

  constructor(private readonly logLocation: MetricRecord['log_location']) {}

  get(state: GatewayState, e: RequestLogEntry, h: RouteHeaders): RouteFacts {
    const slots = this.slots;
    const last = slots[this.last];
    if (last !== undefined && last.matches(state, e, h)) return last.facts;
    for (let i = 0; i < slots.length; i++) {
      if (slots[i].matches(state, e, h)) {
        this.last = i;
        return slots[i].facts;
      }
    }
    this.misses++;
    const facts = this.compute(state, e, h);
    const slot = new Slot(
      state, e.organisationId, e.workspaceId, e.apiKeyId, e.config, e.routeFromEndpoint === true, h.config, h.virtualKey, h.provider,
      h.optionIndex, e.lastUsedOptionIndex, e.provider, e.model, e.endpoint, e.endpoint === undefined ? e.path : undefined, e.method,
      e.promptId, e.promptVersion, facts,
    );
    const at = slots.length < SLOTS ? slots.length : this.next++ % SLOTS;
    slots[at] = slot;
    this.last = at;
    return facts;
  }

  private compute(state: GatewayState, e: RequestLogEntry, h: RouteHeaders): RouteFacts {
    const configHeader = h.config;
    const saved = configHeader ? state.configs.get(configHeader) : undefined;
    const defaultConfig = e.routeFromEndpoint !== true && !configHeader && !h.virtualKey && !h.provider;
    const apiKey = findKey(state, e.apiKeyId);
    const keyDefaults = defaultConfig || !saved ? apiKey : undefined;
    const savedOrDefault = saved ?? (defaultConfig && keyDefaults?.defaults?.config_id ? state.configs.get(keyDefaults.defaults.config_id) : undefined);
    const routedByConfig = Boolean(configHeader || savedOrDefault);
    const optionIndex = h.optionIndex ?? (routedByConfig ? (e.lastUsedOptionIndex ?? null) : null);
    const walked = walkPath(e.config, optionIndex ?? e.lastUsedOptionIndex);
    const virtualKey = h.virtualKey ?? walked.virtualKey ?? null;
    const provider = e.provider ?? null;
    const model = e.model || null;
    const price = provider && model ? priceFor((state as { pricing?: unknown }).pricing, provider, model) : undefined;
    const workspaceId = e.workspaceId ?? savedOrDefault?.workspaceId ?? (virtualKey ? (state.virtualKeys.get(virtualKey)?.workspaceId ?? null) : null);
    return {
      organisation_id: e.organisationId,
      workspace_id: workspaceId,
      api_key_id: e.apiKeyId || null,
      virtual_key: str(virtualKey),
      config_id: savedOrDefault?.id ?? null,
      config_version: savedOrDefault?.version ?? null,
      prompt_id: str(e.promptId, 64),
      prompt_version: e.promptVersion ?? null,
      provider: str(provider, 64),
      model: str(model),
      endpoint: e.endpoint ?? endpointOf(e.path),
      method: e.method.slice(0, 10),
      last_used_option_index: str(optionIndex),
      currency: price?.currency ?? DEFAULT_CURRENCY,
      cost_unknown: !price,
      log_location: this.logLocation,
      fellBack: walked.fellBack,
      price,
      metadataDefaults: apiKey?.defaults?.metadata ?? undefined,
    };
  }
}
