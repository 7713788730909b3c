import { parseGatewayConfig, type GatewayConfig } from '../../core/config-schema.js';
import { HttpProblem } from '../../core/errors.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import type { GatewayState } from '../sync/gateway-state.js';

export interface SelectedConfig {
  config: GatewayConfig;
  /** True when a Portkey config (inline, saved or the key's default) chose the route: then the option index is reported. */
  fromConfig: boolean;
}

/** Inline configs repeat verbatim across calls from one app; parsing (zod) once per distinct string is enough. */
const inlineConfigs = new Map<string, GatewayConfig>();
const INLINE_CACHE_LIMIT = 500;

function parseInline(raw: string): GatewayConfig {
  const cached = inlineConfigs.get(raw);
  if (cached) return cached;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new HttpProblem(400, 'x-portkey-config is neither a saved config id nor valid JSON');
  }
  const parsed = parseGatewayConfig(json);
  if (!parsed.ok) throw new HttpProblem(400, `invalid config: ${parsed.message}`);
  if (inlineConfigs.size >= INLINE_CACHE_LIMIT) inlineConfigs.delete(inlineConfigs.keys().next().value!);
  inlineConfigs.set(raw, parsed.value);
  return parsed.value;
}

function savedConfig(state: GatewayState, idOrSlug: string, apiKey: SyncApiKey): GatewayConfig {
  const saved = state.configs.get(idOrSlug);
  if (!saved || (apiKey.workspace_id && saved.workspaceId !== apiKey.workspace_id)) {
    throw new HttpProblem(400, `config "${idOrSlug}" not found in this workspace`);
  }
  return saved.config;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value || undefined;
}

/**
 * Header routes (and a prompt's virtual key or provider) build the same tiny config per request;
 * one object per distinct route lets its plan be cached.
 */
const headerConfigs = new Map<string, SelectedConfig['config']>();
export function routeConfig(field: 'virtual_key' | 'provider', value: string, customHost: string | undefined): GatewayConfig {
  const key = `${field}\0${value}\0${customHost ?? ''}`;
  let config = headerConfigs.get(key);
  if (!config) {
    config = Object.freeze({ [field]: value, ...(customHost ? { custom_host: customHost } : {}) });
    if (headerConfigs.size >= INLINE_CACHE_LIMIT) headerConfigs.delete(headerConfigs.keys().next().value!);
    headerConfigs.set(key, config);
  }
  return config;
}

/**
 * Which route the caller asked for, in Portkey's precedence: an explicit config, then a virtual
 * key, then a provider (+ its key in Authorization), then the API key's default config.
 */
export function selectConfig(headers: Record<string, string | string[] | undefined>, state: GatewayState, apiKey: SyncApiKey): SelectedConfig {
  const configHeader = header(headers, 'x-portkey-config');
  if (configHeader) {
    const raw = configHeader.trim();
    return { config: raw.startsWith('{') ? parseInline(raw) : savedConfig(state, raw, apiKey), fromConfig: true };
  }
  const customHost = header(headers, 'x-portkey-custom-host');
  const virtualKey = header(headers, 'x-portkey-virtual-key');
  if (virtualKey) return { config: routeConfig('virtual_key', virtualKey, customHost), fromConfig: false };
  const provider = header(headers, 'x-portkey-provider');
  if (provider) return { config: routeConfig('provider', provider, customHost), fromConfig: false };
  const defaultConfig = apiKey.defaults?.config_id;
  if (defaultConfig) return { config: savedConfig(state, defaultConfig, apiKey), fromConfig: true };
  throw new HttpProblem(400, 'no route: send x-portkey-virtual-key, x-portkey-provider (with Authorization: Bearer <provider key>) or x-portkey-config');
}

/** Provider-option headers (Portkey's): `x-portkey-azure-resource-name` → `azure_resource_name`, and so on. */
const OPTION_HEADER = /^x-portkey-((?:azure|aws|vertex|openai|anthropic)-[a-z0-9-]+)$/;

export function providerHeaderOptions(headers: Record<string, string | string[] | undefined>): Record<string, unknown> | undefined {
  let options: Record<string, unknown> | undefined;
  for (const name in headers) {
    if (name.charCodeAt(0) !== 120 /* x */ || !name.startsWith('x-portkey-')) continue;
    const m = OPTION_HEADER.exec(name);
    const value = header(headers, name);
    if (m && value !== undefined) (options ??= {})[m[1].replace(/-/g, '_')] = value;
  }
  return options;
}

/** `x-portkey-strict-open-ai-compliance: false` drops unsupported fields instead of answering 400. */
export function strictHeader(headers: Record<string, string | string[] | undefined>): boolean | undefined {
  const value = header(headers, 'x-portkey-strict-open-ai-compliance');
  return value === undefined ? undefined : value.toLowerCase() !== 'false';
}

/** `x-portkey-metadata`: a JSON object, for conditional routing, sticky hashing and logs. */
export function metadataHeader(headers: Record<string, string | string[] | undefined>): Record<string, unknown> {
  const value = header(headers, 'x-portkey-metadata');
  if (!value) return {};
  try {
    const parsed = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new HttpProblem(400, 'x-portkey-metadata must be a JSON object');
}
