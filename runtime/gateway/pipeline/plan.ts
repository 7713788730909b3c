import type { GatewayConfig } from '../../core/config-schema.js';
import { HttpProblem } from '../../core/errors.js';
import type { GatewayState } from '../sync/gateway-state.js';
import { endpointSpec, getProvider, providerIds, type Endpoint, type Provider, type ProviderTarget } from '../providers/index.js';
import { checkCustomHost, type CustomHostPolicy } from './custom-host.js';

/**
 * A config tree resolved against the synced state for one request: every leaf knows its provider,
 * secret and URL before the first upstream call, so a bad config is a 400 and never a half-run.
 */
export const DEFAULT_RETRY_STATUS_CODES: readonly number[] = [429, 500, 502, 503, 504];
export const MAX_RETRY_ATTEMPTS = 5;

export interface RetryPolicy {
  attempts: number;
  onStatusCodes: readonly number[];
}

export type CacheConfig = NonNullable<GatewayConfig['cache']>;
export type CircuitBreakerConfig = NonNullable<GatewayConfig['cb_config']>;

export interface LeafPlan {
  kind: 'leaf';
  /** `config`, `config.targets[1]`, `config.targets[1].targets[0]`. */
  path: string;
  name?: string;
  weight: number;
  onStatusCodes?: readonly number[];
  provider: Provider;
  target: ProviderTarget;
  overrideParams?: Record<string, unknown>;
  retry?: RetryPolicy;
  requestTimeoutMs?: number;
  cache?: CacheConfig;
  cb?: CircuitBreakerConfig;
  /** Unsupported OpenAI fields are a 400 (true, the default) or dropped (false). */
  strict: boolean;
  /** Inherited hooks/guardrails, for the guardrails stage. */
  hooks?: Hooks;
  /** provider.authHeaders(target), memoised by the first request that uses this (cached) plan. */
  authHeaders?: Record<string, string>;
}

export interface GroupPlan {
  kind: 'group';
  path: string;
  name?: string;
  weight: number;
  onStatusCodes?: readonly number[];
  mode: 'single' | 'fallback' | 'loadbalance' | 'conditional';
  /** The strategy's on_status_codes: what moves a fallback on when a child names none. */
  strategyStatusCodes?: readonly number[];
  /** conditional: each query and the child index it routes to; `defaultIndex` when none matches. */
  conditions?: { query: Record<string, unknown>; index: number }[];
  defaultIndex?: number;
  /** loadbalance: requests with equal values of these fields reach the same child. */
  stickyFields?: string[];
  cb?: CircuitBreakerConfig;
  children: PlanNode[];
}

export type PlanNode = LeafPlan | GroupPlan;

export interface Hooks {
  before_request_hooks?: unknown[];
  after_request_hooks?: unknown[];
  input_guardrails?: unknown[];
  output_guardrails?: unknown[];
}

export interface PlanContext {
  state: GatewayState;
  /** The caller's workspace; null for an org-wide key, which may use any workspace's keys. */
  workspaceId: string | null;
  /** `Authorization: Bearer` from the caller: the provider key when a target names a provider and no api_key. */
  callerProviderKey?: string;
  endpoint: Endpoint;
  policy: CustomHostPolicy;
  /** Provider options from x-portkey-azure-* / -aws-* / -vertex-* headers. */
  headerOptions?: Record<string, unknown>;
  /** x-portkey-strict-open-ai-compliance. */
  strict?: boolean;
}

/**
 * What a parent hands down (issue 3's inheritance rules): override_params merge parent → child;
 * retry and cache are replaced by a child that sets them; request_timeout, custom_host, hooks and
 * strict_open_ai_compliance are inherited unless set.
 */
interface Inherited {
  overrideParams?: Record<string, unknown>;
  retry?: GatewayConfig['retry'];
  cache?: GatewayConfig['cache'];
  requestTimeout?: number;
  customHost?: string;
  strict?: boolean;
  hooks?: Hooks;
}

const HOOK_FIELDS = ['before_request_hooks', 'after_request_hooks', 'input_guardrails', 'output_guardrails'] as const;

function inheritHooks(config: GatewayConfig, parent: Hooks | undefined): Hooks | undefined {
  let hooks = parent;
  for (const field of HOOK_FIELDS) {
    if (config[field]) hooks = { ...hooks, [field]: config[field] };
  }
  return hooks;
}

export function buildPlan(config: GatewayConfig, ctx: PlanContext, path = 'config', inherited: Inherited = {}): PlanNode {
  const here: Inherited = {
    overrideParams: config.override_params ? { ...inherited.overrideParams, ...config.override_params } : inherited.overrideParams,
    retry: config.retry ?? inherited.retry,
    cache: config.cache ?? inherited.cache,
    requestTimeout: config.request_timeout ?? inherited.requestTimeout,
    customHost: config.custom_host ?? inherited.customHost,
    strict: config.strict_open_ai_compliance ?? inherited.strict,
    hooks: inheritHooks(config, inherited.hooks),
  };
  const weight = config.weight ?? 1;
  if (config.targets) {
    const mode = config.strategy?.mode ?? 'single';
    const group: GroupPlan = {
      kind: 'group',
      path,
      name: config.name,
      weight,
      onStatusCodes: config.on_status_codes,
      mode,
      strategyStatusCodes: config.strategy?.on_status_codes,
      cb: config.cb_config,
      children: config.targets.map((child, i) => buildPlan(child, ctx, `${path}.targets[${i}]`, here)),
    };
    if (mode === 'conditional') {
      const indexOf = (name: string, where: string) => {
        const index = config.targets!.findIndex((t) => t.name === name);
        if (index < 0) throw new HttpProblem(400, `${path}.strategy.${where}: no target is named "${name}"`);
        return index;
      };
      group.conditions = (config.strategy?.conditions ?? []).map((c, i) => ({ query: c.query, index: indexOf(c.then, `conditions[${i}].then`) }));
      if (config.strategy?.default !== undefined) group.defaultIndex = indexOf(config.strategy.default, 'default');
    }
    if (mode === 'loadbalance' && config.strategy?.sticky_session) group.stickyFields = config.strategy.sticky_session.hash_fields;
    return group;
  }
  return buildLeaf(config, ctx, path, here, weight);
}

/**
 * Plans for the same (state version, config object, endpoint, workspace, caller key) are identical,
 * so they are built once: a saved config's plan is reused until a sync replaces the state or the
 * config. Requests that carry provider-option headers or a strictness header are planned afresh.
 */
const planCache = new WeakMap<GatewayState, WeakMap<GatewayConfig, Map<string, PlanNode>>>();
/** The last plan per config: repeated calls on one route skip the key string and the nested lookups. */
const lastPlan = new WeakMap<GatewayConfig, { state: GatewayState; endpoint: Endpoint; workspaceId: string | null; callerProviderKey: string | undefined; plan: PlanNode }>();
export function cachedPlan(config: GatewayConfig, ctx: PlanContext): PlanNode {
  if (ctx.headerOptions || ctx.strict !== undefined) return buildPlan(config, ctx);
  const last = lastPlan.get(config);
  if (last && last.state === ctx.state && last.endpoint === ctx.endpoint && last.workspaceId === ctx.workspaceId && last.callerProviderKey === ctx.callerProviderKey) return last.plan;
  const plan = keyedPlan(config, ctx);
  lastPlan.set(config, { state: ctx.state, endpoint: ctx.endpoint, workspaceId: ctx.workspaceId, callerProviderKey: ctx.callerProviderKey, plan });
  return plan;
}

function keyedPlan(config: GatewayConfig, ctx: PlanContext): PlanNode {
  let byConfig = planCache.get(ctx.state);
  if (!byConfig) planCache.set(ctx.state, (byConfig = new WeakMap()));
  let plans = byConfig.get(config);
  if (!plans) byConfig.set(config, (plans = new Map()));
  const key = `${ctx.endpoint}\0${ctx.workspaceId ?? ''}\0${ctx.callerProviderKey ?? ''}`;
  let plan = plans.get(key);
  if (!plan) {
    plan = buildPlan(config, ctx); // a 400 throws here and is not cached
    if (plans.size >= 100) plans.delete(plans.keys().next().value!);
    plans.set(key, plan);
  }
  return plan;
}

/** custom_host checks are pure per policy, so each distinct host is parsed and checked once, not per request. */
const checkedHosts = new WeakMap<CustomHostPolicy, Map<string, string>>();
export function allowedBaseUrl(customHost: string, policy: CustomHostPolicy): string {
  let cache = checkedHosts.get(policy);
  if (!cache) checkedHosts.set(policy, (cache = new Map()));
  let baseUrl = cache.get(customHost);
  if (baseUrl === undefined) {
    baseUrl = checkCustomHost(customHost, policy).href.replace(/\/+$/, ''); // throws (400) and is not cached when refused
    if (cache.size < 1000) cache.set(customHost, baseUrl);
  }
  return baseUrl;
}

/** Provider fields a config target may carry at its top level; they become the target's options. */
const OPTION_FIELDS = [
  'azure_resource_name', 'azure_deployment_id', 'azure_api_version', 'azure_auth_mode', 'azure_ad_token',
  'aws_region', 'aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'aws_role_arn', 'aws_external_id',
  'vertex_project_id', 'vertex_region', 'vertex_service_account_json', 'openai_organization', 'openai_project',
] as const;

function buildLeaf(config: GatewayConfig, ctx: PlanContext, path: string, inherited: Inherited, weight: number): LeafPlan {
  let providerId = config.provider;
  let apiKey = config.api_key;
  let options: Record<string, unknown> = ctx.headerOptions ? { ...ctx.headerOptions } : {};
  if (config.virtual_key) {
    const vk = ctx.state.virtualKeys.get(config.virtual_key);
    if (!vk || (ctx.workspaceId && vk.workspaceId !== ctx.workspaceId)) {
      throw new HttpProblem(400, `${path}.virtual_key: no virtual key "${config.virtual_key}" in this workspace`);
    }
    providerId = vk.provider;
    apiKey = vk.apiKey;
    options = { ...options, ...vk.options };
  }
  for (const field of OPTION_FIELDS) if (config[field] !== undefined) options[field] = config[field];
  const provider = providerId ? getProvider(providerId) : undefined;
  if (!provider) {
    throw new HttpProblem(400, `${path}.provider: unknown provider "${providerId ?? ''}"; this gateway supports ${providerIds().join(', ')}`);
  }
  if (!endpointSpec(provider, ctx.endpoint)) {
    throw new HttpProblem(400, `${path}: provider "${provider.id}" does not support this endpoint`);
  }
  const customHost = config.custom_host ?? (typeof options.custom_host === 'string' ? options.custom_host : undefined) ?? inherited.customHost;
  const baseUrl = customHost ? allowedBaseUrl(customHost, ctx.policy) : provider.baseUrl ? provider.baseUrl(options) : provider.defaultBaseUrl;
  for (const url of provider.extraUrls?.(options) ?? []) allowedBaseUrl(url, ctx.policy);
  const retry = inherited.retry;
  return {
    kind: 'leaf',
    path,
    name: config.name,
    weight,
    onStatusCodes: config.on_status_codes,
    provider,
    target: { apiKey: apiKey ?? ctx.callerProviderKey ?? '', baseUrl, options },
    overrideParams: inherited.overrideParams,
    retry: retry && retry.attempts > 0 ? { attempts: Math.min(retry.attempts, MAX_RETRY_ATTEMPTS), onStatusCodes: retry.on_status_codes ?? DEFAULT_RETRY_STATUS_CODES } : undefined,
    requestTimeoutMs: inherited.requestTimeout,
    cache: inherited.cache,
    cb: config.cb_config,
    strict: inherited.strict ?? ctx.strict ?? true,
    hooks: inherited.hooks,
  };
}
