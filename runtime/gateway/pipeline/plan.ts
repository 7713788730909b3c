import type { GatewayConfig } from '../../core/config-schema.js';
import { HttpProblem } from '../../core/errors.js';
import type { GatewayState } from '../sync/gateway-state.js';
import { getProvider, providerIds, type Endpoint, type Provider, type ProviderTarget } from '../providers/index.js';
import { checkCustomHost, type CustomHostPolicy } from './custom-host.js';

/**
 * A config tree resolved against the synced state for one request: every leaf knows its provider,
 * secret and URL before the first upstream call, so a bad config is a 400 and never a half-run.
 */
export const DEFAULT_RETRY_STATUS_CODES: readonly number[] = [429, 500, 502, 503, 504];

export interface RetryPolicy {
  attempts: number;
  onStatusCodes: readonly number[];
}

export interface LeafPlan {
  kind: 'leaf';
  /** `config`, `config.targets[1]`, `config.targets[1].targets[0]`. */
  path: string;
  weight: number;
  onStatusCodes?: readonly number[];
  provider: Provider;
  target: ProviderTarget;
  overrideParams?: Record<string, unknown>;
  retry?: RetryPolicy;
  requestTimeoutMs?: number;
}

export interface GroupPlan {
  kind: 'group';
  path: string;
  weight: number;
  onStatusCodes?: readonly number[];
  mode: 'single' | 'fallback' | 'loadbalance';
  /** The strategy's on_status_codes: what moves a fallback on when a child names none. */
  strategyStatusCodes?: readonly number[];
  children: PlanNode[];
}

export type PlanNode = LeafPlan | GroupPlan;

export interface PlanContext {
  state: GatewayState;
  /** The caller's workspace; null for an org-wide key, which may use any workspace's keys. */
  workspaceId: string | null;
  /** `Authorization: Bearer` from the caller: the provider key when a target names a provider and no api_key. */
  callerProviderKey?: string;
  endpoint: Endpoint;
  policy: CustomHostPolicy;
}

/** What a parent hands down (issue 3's inheritance rules: params merge, the rest is inherited unless set). */
interface Inherited {
  overrideParams?: Record<string, unknown>;
  retry?: GatewayConfig['retry'];
  requestTimeout?: number;
  customHost?: string;
}

export function buildPlan(config: GatewayConfig, ctx: PlanContext, path = 'config', inherited: Inherited = {}): PlanNode {
  const here: Inherited = {
    overrideParams: config.override_params ? { ...inherited.overrideParams, ...config.override_params } : inherited.overrideParams,
    retry: config.retry ?? inherited.retry,
    requestTimeout: config.request_timeout ?? inherited.requestTimeout,
    customHost: config.custom_host ?? inherited.customHost,
  };
  const weight = config.weight ?? 1;
  if (config.targets) {
    const mode = config.strategy?.mode ?? 'single';
    if (mode === 'conditional') throw new HttpProblem(400, `${path}.strategy.mode: "conditional" is not supported by this gateway yet`);
    return {
      kind: 'group',
      path,
      weight,
      onStatusCodes: config.on_status_codes,
      mode,
      strategyStatusCodes: config.strategy?.on_status_codes,
      children: config.targets.map((child, i) => buildPlan(child, ctx, `${path}.targets[${i}]`, here)),
    };
  }
  return buildLeaf(config, ctx, path, here, weight);
}

/** custom_host checks are pure per policy, so each distinct host is parsed and checked once, not per request. */
const checkedHosts = new WeakMap<CustomHostPolicy, Map<string, string>>();
function allowedBaseUrl(customHost: string, policy: CustomHostPolicy): string {
  let cache = checkedHosts.get(policy);
  if (!cache) checkedHosts.set(policy, (cache = new Map()));
  let baseUrl = cache.get(customHost);
  if (baseUrl === undefined) {
    baseUrl = checkCustomHost(customHost, policy).href.replace(/\/+$/, ''); // throws (400) and is not cached when refused
    if (cache.size < 1000) cache.set(customHost, baseUrl);
  }
  return baseUrl;
}

function buildLeaf(config: GatewayConfig, ctx: PlanContext, path: string, inherited: Inherited, weight: number): LeafPlan {
  let providerId = config.provider;
  let apiKey = config.api_key;
  let options: Record<string, unknown> = {};
  if (config.virtual_key) {
    const vk = ctx.state.virtualKeys.get(config.virtual_key);
    if (!vk || (ctx.workspaceId && vk.workspaceId !== ctx.workspaceId)) {
      throw new HttpProblem(400, `${path}.virtual_key: no virtual key "${config.virtual_key}" in this workspace`);
    }
    providerId = vk.provider;
    apiKey = vk.apiKey;
    options = { ...vk.options };
  }
  const provider = providerId ? getProvider(providerId) : undefined;
  if (!provider) {
    throw new HttpProblem(400, `${path}.provider: unknown provider "${providerId ?? ''}"; this gateway supports ${providerIds().join(', ')}`);
  }
  if (!provider.endpoints[ctx.endpoint]) {
    throw new HttpProblem(400, `${path}: provider "${provider.id}" does not support this endpoint`);
  }
  const customHost = config.custom_host ?? (typeof options.custom_host === 'string' ? options.custom_host : undefined) ?? inherited.customHost;
  const baseUrl = customHost ? allowedBaseUrl(customHost, ctx.policy) : provider.defaultBaseUrl;
  const retry = inherited.retry;
  return {
    kind: 'leaf',
    path,
    weight,
    onStatusCodes: config.on_status_codes,
    provider,
    target: { apiKey: apiKey ?? ctx.callerProviderKey ?? '', baseUrl, options },
    overrideParams: inherited.overrideParams,
    retry: retry && retry.attempts > 0 ? { attempts: retry.attempts, onStatusCodes: retry.on_status_codes ?? DEFAULT_RETRY_STATUS_CODES } : undefined,
    requestTimeoutMs: inherited.requestTimeout,
  };
}
