import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { GatewayConfig } from '../../core/config-schema.js';
import { HttpProblem, openAIError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import type { LeafPlan } from '../pipeline/plan.js';
import type { UpstreamResult } from '../pipeline/upstream.js';
import type { Endpoint } from '../providers/index.js';
import type { GatewayState } from '../sync/gateway-state.js';
import { costCents, priceFor } from '../telemetry/pricing.js';
import { tapResponse, type ResponseTap } from '../telemetry/response-tap.js';
import { estimateTokens, promptChars, resolveUsage, usageFromResponse } from '../telemetry/usage.js';
import { budgetPeriod, formatAmount, parseUsageLimits, type UsageLimits } from './budgets.js';
import { memoryBudgetStore, type BudgetStore } from './budget-store.js';
import type { ReconciledUsage } from './reconciled-usage.js';
import type { BudgetClaims } from './budget-claims.js';
import { memoryRateLimiter, type RateDecision, type RateLimiter, type RuleState } from './rate-limiter.js';
import { describeSpec, parseRateLimits, rulesFor, type RateLimitSpec, type ScopedRule } from './rules.js';

export type { RateLimiter, RateRule, RateDecision } from './rate-limiter.js';
export { memoryRateLimiter } from './rate-limiter.js';
export { redisRateLimiter } from './redis-rate-limiter.js';
export { memoryBudgetStore, redisBudgetStore, type BudgetStore } from './budget-store.js';
export { reconciledUsage, type ReconciledUsage } from './reconciled-usage.js';
export { budgetClaims, type BudgetClaims } from './budget-claims.js';

/** The limits an entity carries: Portkey's `rate_limits` array and `usage_limits` object. */
export interface EntityLimits {
  rate_limits?: unknown;
  usage_limits?: unknown;
}

/**
 * Where limits come from. The default reads `rate_limits` / `usage_limits` from the synced API key,
 * virtual key and workspace entries (once the sync contract carries them), then the static maps in
 * the options (by API key id, virtual key slug, workspace id).
 */
export interface LimitSource {
  apiKey(key: SyncApiKey, state: GatewayState): EntityLimits | undefined;
  virtualKey(slug: string, state: GatewayState): EntityLimits | undefined;
  workspace(id: string, state: GatewayState): EntityLimits | undefined;
}

export interface BudgetEvent {
  kind: 'alert' | 'exhausted';
  scope: 'api_key' | 'virtual_key';
  id: string;
  type: UsageLimits['type'];
  period: string;
  used: number;
  limit: number;
  threshold?: number;
  at: string;
}

export interface UsageReportEntry {
  scope: 'api_key' | 'virtual_key';
  id: string;
  type: UsageLimits['type'];
  period: string;
  /** Added since the previous report (dollars or tokens). */
  delta: number;
  /** This gateway fleet's shared counter for the period. */
  total: number;
}

export interface LimitsOptions {
  /** Default: in-process (one task). Use `redisRateLimiter` to share limits across tasks. */
  limiter?: RateLimiter;
  /** Default: in-process. Use `redisBudgetStore` to share budgets across tasks. */
  budgets?: BudgetStore;
  source?: LimitSource;
  /** Static limits (tests, or operators without control-plane limits): by API key id, virtual key slug, workspace id. */
  apiKeys?: Record<string, EntityLimits>;
  virtualKeys?: Record<string, EntityLimits>;
  workspaces?: Record<string, EntityLimits>;
  /** Budget alerts and exhaustion events go here, and are POSTed to `alertWebhook` when set. */
  onBudgetEvent?: (event: BudgetEvent) => void;
  alertWebhook?: string;
  /** The control plane's per-period figures from the heartbeat (startGateway wires it): enforced as max(counter, figure). */
  reconciled?: ReconciledUsage;
  /** Events are claimed from the control plane before they fire, so they fire once fleet-wide (startGateway wires it). */
  claims?: BudgetClaims;
  now?: () => number;
  logger?: Logger;
}

export interface AdmitArgs {
  res: ServerResponse;
  state: GatewayState;
  apiKey: SyncApiKey;
  config: GatewayConfig;
  body: Record<string, unknown> | undefined;
  endpoint: Endpoint;
  headers: IncomingHttpHeaders;
}

export interface SettleArgs {
  /** The status the client saw. */
  status: number;
  provider?: string;
  model?: string;
  /** The leaf that answered (`config.targets[1]`): names the virtual key that was used. */
  leafPath?: string;
}

type Send = (leaf: LeafPlan, ...rest: never[]) => Promise<UpstreamResult>;

export interface Admission {
  /** Wraps the pipeline's send: each leaf's virtual key limits and budget are checked before its call. */
  wrap<F extends Send>(send: F): F;
  /** After the answer: counts tokens (tokens-per-minute) and spend (budgets). Never rejects; callers need not wait. */
  settle(args: SettleArgs): Promise<void>;
}

export interface LimitsStats {
  admitted: number;
  limited: number;
  budget_exhausted: number;
  degraded: number;
}

export interface Limits {
  /**
   * undefined, synchronously, when nothing limits this request (the fast path: no promise, no
   * await for the caller). Otherwise a promise of the admission; it rejects with 429 / 412 / 503.
   */
  admit(args: AdmitArgs): Promise<Admission | undefined> | undefined;
  /** Usage added since the last call, per entity and period: for the heartbeat / ingest report. */
  usageReport(): UsageReportEntry[];
  /** The last budget events (alerts, exhaustion), newest last. */
  events(): BudgetEvent[];
  stats(): LimitsStats;
  close(): Promise<void>;
}

function readLimits(entry: unknown): EntityLimits | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const e = entry as Record<string, unknown>;
  const opts = (e.options && typeof e.options === 'object' ? e.options : {}) as Record<string, unknown>;
  const rate = e.rate_limits ?? e.rateLimits ?? opts.rate_limits;
  const usage = e.usage_limits ?? e.usageLimits ?? opts.usage_limits;
  return rate || usage ? { rate_limits: rate, usage_limits: usage } : undefined;
}

function defaultSource(opts: LimitsOptions): LimitSource {
  return {
    apiKey: (key) => readLimits(key) ?? opts.apiKeys?.[key.id],
    virtualKey: (slug, state) => readLimits(state.virtualKeys.get(slug)) ?? opts.virtualKeys?.[slug],
    workspace: (id, state) => {
      const list = (state as unknown as { workspaces?: unknown }).workspaces;
      const synced = list instanceof Map ? list.get(id) : Array.isArray(list) ? list.find((w: { id?: string }) => w?.id === id) : undefined;
      return readLimits(synced) ?? opts.workspaces?.[id];
    },
  };
}

/** The virtual key a leaf path resolves to: `config.targets[1].targets[0]` walked through the config. */
export function virtualKeyAt(config: GatewayConfig, path: string | undefined): string | undefined {
  let node: GatewayConfig | undefined = config;
  let vk = config.virtual_key;
  for (const m of (path ?? '').matchAll(/targets\[(\d+)\]/g)) {
    node = node?.targets?.[Number(m[1])];
    if (node?.virtual_key) vk = node.virtual_key;
  }
  return vk;
}

/** OpenAI's reset format: `1s`, `6m0s`, `20ms`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  let s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

function tightest(states: RuleState[], rules: ScopedRule[], type: RateLimitSpec['type']): RuleState | undefined {
  let best: RuleState | undefined;
  states.forEach((s, i) => {
    if (rules[i].spec.type !== type) return;
    if (!best || s.remaining < best.remaining || (!s.allowed && best.allowed)) best = s;
  });
  return best;
}

function setRateHeaders(res: ServerResponse, decision: RateDecision, rules: ScopedRule[]): void {
  if (res.headersSent) return;
  for (const type of ['requests', 'tokens'] as const) {
    const s = tightest(decision.rules, rules, type);
    if (!s) continue;
    const current = Number(res.getHeader(`x-ratelimit-remaining-${type}`));
    if (Number.isFinite(current) && current < s.remaining) continue; // an earlier, tighter scope already reported
    res.setHeader(`x-ratelimit-limit-${type}`, String(s.limit));
    res.setHeader(`x-ratelimit-remaining-${type}`, String(s.remaining));
    res.setHeader(`x-ratelimit-reset-${type}`, duration(s.resetMs));
  }
}

function limitedMessage(decision: RateDecision, rules: ScopedRule[]): string {
  const i = decision.rules.findIndex((s, k) => !s.allowed && !rules[k].force);
  const rule = rules[i];
  const wait = Math.ceil(decision.retryAfterMs / 1000);
  return rule ? `rate limit reached for ${rule.scope}: ${describeSpec(rule.spec)}; retry in ${wait} s` : `rate limit reached; retry in ${wait} s`;
}

function syntheticResponse(status: number, body: unknown, headers: Record<string, string>): UpstreamResult {
  const stream = Object.assign(Readable.from([Buffer.from(JSON.stringify(body))]), { dump: async () => {} });
  return { kind: 'response', status, headers: { 'content-type': 'application/json', ...headers }, body: stream } as unknown as UpstreamResult;
}

interface BudgetCheck {
  scope: 'api_key' | 'virtual_key';
  id: string;
  limits: UsageLimits;
}

export function createLimits(opts: LimitsOptions = {}): Limits {
  const limiter = opts.limiter ?? memoryRateLimiter();
  const store = opts.budgets ?? memoryBudgetStore();
  const source = opts.source ?? defaultSource(opts);
  const now = opts.now ?? Date.now;
  const logger = opts.logger ?? silentLogger;
  const stats: LimitsStats = { admitted: 0, limited: 0, budget_exhausted: 0, degraded: 0 };
  const recent: BudgetEvent[] = [];
  const pendingReport = new Map<string, UsageReportEntry>();
  // Whether any virtual key in a state carries limits: when none does, leaves are not wrapped.
  const vkLimited = new WeakMap<GatewayState, boolean>();
  const anyVirtualKeyLimits = (state: GatewayState) => {
    let v = vkLimited.get(state);
    if (v === undefined) {
      v = [...state.virtualKeys.keys()].some((slug) => source.virtualKey(slug, state)) || Object.keys(opts.virtualKeys ?? {}).length > 0;
      vkLimited.set(state, v);
    }
    return v;
  };

  const budgetKey = (b: BudgetCheck, period: string) => `${b.scope}:${b.id}:${b.limits.type}:${period}`;
  const ttlFor = (resetsAt: number | undefined) => Math.ceil(((resetsAt ?? now() + 400 * 86_400_000) - now()) / 1000) + 7 * 86_400;

  async function used(b: BudgetCheck): Promise<{ used: number; period: ReturnType<typeof budgetPeriod> }> {
    const period = budgetPeriod(b.limits.periodic_reset, now());
    let local = 0;
    try {
      local = await store.get(budgetKey(b, period.id));
    } catch (err) {
      logger.warn('budget store unreachable; using the control plane figure only', { reason: (err as Error).message });
    }
    return { used: Math.max(local, controlPlaneUsed(b, period.id)), period };
  }

  /** What the control plane knows: `current_usage` in the synced entity, or the heartbeat's figure. */
  function controlPlaneUsed(b: BudgetCheck, period: string): number {
    const synced = b.limits.current_usage !== undefined && (!b.limits.usage_period || b.limits.usage_period === period) ? b.limits.current_usage : 0;
    return Math.max(synced, opts.reconciled?.get(b.scope, b.id, b.limits.type, period) ?? 0);
  }

  /** A 412 problem when the budget is spent, else undefined. */
  async function exhausted(b: BudgetCheck): Promise<{ message: string; resetsAt?: number } | undefined> {
    const { used: u, period } = await used(b);
    // The control plane's figure can show a line crossed that no request of this store charged
    // across (traffic elsewhere): with claims the event still fires, once across the fleet.
    if (opts.claims) void figureEvents(b, u, period);
    if (u < b.limits.credit_limit) return undefined;
    const who = b.scope === 'api_key' ? `API key "${b.id}"` : `virtual key "${b.id}"`;
    const when = period.resetsAt ? `it resets at ${new Date(period.resetsAt).toISOString()}` : 'it does not reset';
    return {
      message: `${who} has used its ${b.limits.type} budget of ${formatAmount(b.limits, b.limits.credit_limit)}${period.id === 'all' ? '' : ` for ${period.id}`}; ${when}`,
      resetsAt: period.resetsAt,
    };
  }

  function emit(event: BudgetEvent): void {
    recent.push(event);
    if (recent.length > 200) recent.shift();
    logger.warn(event.kind === 'alert' ? 'budget alert threshold reached' : 'budget exhausted', { ...event });
    opts.onBudgetEvent?.(event);
    if (opts.alertWebhook) {
      fetch(opts.alertWebhook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event), signal: AbortSignal.timeout(5000) })
        .then((r) => r.body?.cancel())
        .catch((err: Error) => logger.warn('budget alert webhook failed', { reason: err.message }));
    }
  }

  async function spend(b: BudgetCheck, amount: number): Promise<void> {
    if (amount <= 0) return;
    const period = budgetPeriod(b.limits.periodic_reset, now());
    const key = budgetKey(b, period.id);
    const ttl = ttlFor(period.resetsAt);
    const total = await store.add(key, amount, ttl);
    const report = pendingReport.get(key) ?? { scope: b.scope, id: b.id, type: b.limits.type, period: period.id, delta: 0, total: 0 };
    report.delta += amount;
    report.total = total;
    pendingReport.set(key, report);
    // Events follow the usage the gateway enforces: a request that takes the fleet-wide figure
    // over the threshold alerts even when this task's own counter is still below it.
    const known = controlPlaneUsed(b, period.id);
    const before = Math.max(total - amount, known);
    const after = Math.max(total, known + amount);
    const base = { scope: b.scope, id: b.id, type: b.limits.type, period: period.id, used: after, limit: b.limits.credit_limit, at: new Date(now()).toISOString() };
    const th = b.limits.alert_threshold;
    if (th !== undefined && before < th && after >= th && (await store.once(`alert:${key}`, ttl))) announce({ kind: 'alert', ...base, threshold: th });
    if (before < b.limits.credit_limit && after >= b.limits.credit_limit && (await store.once(`exhausted:${key}`, ttl))) announce({ kind: 'exhausted', ...base });
  }

  async function figureEvents(b: BudgetCheck, u: number, period: ReturnType<typeof budgetPeriod>): Promise<void> {
    const th = b.limits.alert_threshold;
    const crossed = [...(th !== undefined && u >= th ? (['alert'] as const) : []), ...(u >= b.limits.credit_limit ? (['exhausted'] as const) : [])];
    if (!crossed.length) return;
    const key = budgetKey(b, period.id);
    const ttl = ttlFor(period.resetsAt);
    const base = { scope: b.scope, id: b.id, type: b.limits.type, period: period.id, used: u, limit: b.limits.credit_limit, at: new Date(now()).toISOString() };
    try {
      for (const kind of crossed) {
        if (await store.once(`${kind}:${key}`, ttl)) announce(kind === 'alert' ? { kind, ...base, threshold: th } : { kind, ...base });
      }
    } catch (err) {
      logger.warn('budget event bookkeeping failed', { reason: (err as Error).message });
    }
  }

  function announce(event: BudgetEvent): void {
    if (!opts.claims) return emit(event);
    opts.claims.claim({ scope: event.scope, id: event.id, type: event.type, period: event.period, kind: event.kind }, () => emit(event));
  }

  function problem429(res: ServerResponse, decision: RateDecision, rules: ScopedRule[]): HttpProblem {
    stats.limited++;
    if (decision.degraded === 'closed') {
      res.setHeader('retry-after', '1');
      const msg = 'rate limiting is unavailable (the shared store is down) and this gateway is configured to fail closed';
      return new HttpProblem(503, msg, openAIError(msg, 'api_error', 'rate_limiter_unavailable'));
    }
    const msg = limitedMessage(decision, rules);
    res.setHeader('retry-after', String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
    res.setHeader('retry-after-ms', String(decision.retryAfterMs));
    return new HttpProblem(429, msg, openAIError(msg, 'rate_limit_error', 'rate_limit_exceeded'));
  }

  function budgetProblem(res: ServerResponse, found: { message: string; resetsAt?: number }): HttpProblem {
    stats.budget_exhausted++;
    if (found.resetsAt && !res.headersSent) res.setHeader('x-tollgate-budget-reset', new Date(found.resetsAt).toISOString());
    return new HttpProblem(412, found.message, openAIError(found.message, 'budget_exceeded', 'budget_exhausted'));
  }

  return {
    stats: () => ({ ...stats }),
    events: () => [...recent],
    usageReport() {
      const out = [...pendingReport.values()];
      pendingReport.clear();
      return out;
    },
    close: async () => {
      await Promise.all([limiter.close(), store.close()]);
    },
    admit(args) {
      const { state, apiKey } = args;
      const akLimits = source.apiKey(apiKey, state);
      const wsLimits = apiKey.workspace_id ? source.workspace(apiKey.workspace_id, state) : undefined;
      const vkAny = anyVirtualKeyLimits(state);
      if (!akLimits && !wsLimits && !vkAny) return undefined;
      return admitLimited(args, akLimits, wsLimits, vkAny);
    },
  };

  async function admitLimited(args: AdmitArgs, akLimits: EntityLimits | undefined, wsLimits: EntityLimits | undefined, vkAny: boolean): Promise<Admission> {
    const { res, state, apiKey } = args;

    const akSpecs = parseRateLimits(akLimits?.rate_limits);
    const wsSpecs = parseRateLimits(wsLimits?.rate_limits);
    const rules = [
      ...rulesFor(akSpecs, `{${state.organisationId}}:ak:${apiKey.id}`, `API key "${apiKey.id}"`),
      ...rulesFor(wsSpecs, `{${state.organisationId}}:ws:${apiKey.workspace_id}`, `workspace "${apiKey.workspace_id}"`),
    ];
    if (rules.length) {
      const decision = await limiter.consume(rules);
      if (decision.degraded) stats.degraded++;
      setRateHeaders(res, decision, rules);
      if (!decision.allowed) throw problem429(res, decision, rules);
    }
    const akBudget = parseUsageLimits(akLimits?.usage_limits);
    const akCheck: BudgetCheck | undefined = akBudget ? { scope: 'api_key', id: apiKey.id, limits: akBudget } : undefined;
    if (akCheck) {
      const found = await exhausted(akCheck);
      if (found) throw budgetProblem(res, found);
    }
    stats.admitted++;

    const needsUsage = rules.some((r) => r.spec.type === 'tokens') || !!akCheck || vkAny;
    const tap: ResponseTap | undefined = needsUsage ? tapResponse(res, 0) : undefined;
    const tokenRules = (vk?: string) => {
      const vkSpecs = vk ? parseRateLimits(source.virtualKey(vk, state)?.rate_limits) : [];
      return { akSpecs, wsSpecs, vkSpecs };
    };

    return {
      wrap<F extends Send>(send: F): F {
        if (!vkAny) return send;
        const wrapped = async (leaf: LeafPlan, ...rest: never[]) => {
          const vk = virtualKeyAt(args.config, leaf.path);
          const limits = vk ? source.virtualKey(vk, state) : undefined;
          const proceed = () => {
            // An earlier target was refused, this one goes ahead: its refusal headers no longer apply.
            if (!res.headersSent) for (const name of ['retry-after', 'retry-after-ms', 'x-tollgate-budget-reset']) res.removeHeader(name);
            return send(leaf, ...rest);
          };
          if (!vk || !limits) return proceed();
          const budget = parseUsageLimits(limits.usage_limits);
          if (budget) {
            const found = await exhausted({ scope: 'virtual_key', id: vk, limits: budget });
            if (found) {
              const p = budgetProblem(res, found);
              return syntheticResponse(412, p.body, {});
            }
          }
          const vkRules = rulesFor(parseRateLimits(limits.rate_limits), `{${state.organisationId}}:vk:${vk}`, `virtual key "${vk}"`);
          if (vkRules.length) {
            const decision = await limiter.consume(vkRules);
            if (decision.degraded) stats.degraded++;
            setRateHeaders(res, decision, vkRules);
            if (!decision.allowed) {
              // Retry-After goes on the response itself (set by problem429), not on the synthetic
              // answer: a config's retry must not sleep on it, it just re-checks after its backoff.
              const p = problem429(res, decision, vkRules);
              return syntheticResponse(p.status, p.body, {});
            }
          }
          return proceed();
        };
        return wrapped as unknown as F;
      },
      async settle(s) {
        if (!tap || !((s.status >= 200 && s.status < 300) || s.status === 246)) return;
        const vk = virtualKeyAt(args.config, s.leafPath);
        const usage = resolveUsage(usageFromResponse(tap.head(), tap.tail()), () => ({ req: estimateTokens(promptChars(args.body)), res: 0 }));
        const { vkSpecs } = tokenRules(vk);
        const tokens = usage.total;
        const work: Promise<unknown>[] = [];
        const tok = [
          ...rulesFor(akSpecs.filter((x) => x.type === 'tokens'), `{${state.organisationId}}:ak:${apiKey.id}`, '', tokens),
          ...rulesFor(wsSpecs.filter((x) => x.type === 'tokens'), `{${state.organisationId}}:ws:${apiKey.workspace_id}`, '', tokens),
          ...rulesFor(vkSpecs.filter((x) => x.type === 'tokens'), `{${state.organisationId}}:vk:${vk}`, '', tokens),
        ];
        if (tok.length && tokens > 0) work.push(limiter.consume(tok));
        const cents = s.provider && s.model ? costCents(priceFor((state as { pricing?: unknown }).pricing, s.provider, s.model), usage.req, usage.res) : 0;
        const charge = (b: BudgetCheck) => spend(b, b.limits.type === 'tokens' ? tokens : cents / 100);
        if (akCheck) work.push(charge(akCheck));
        const vkBudget = vk ? parseUsageLimits(source.virtualKey(vk, state)?.usage_limits) : undefined;
        if (vk && vkBudget) work.push(charge({ scope: 'virtual_key', id: vk, limits: vkBudget }));
        if (work.length) await Promise.all(work).catch((err: Error) => logger.warn('usage accounting failed', { reason: err.message }));
      },
    };
  }
}
