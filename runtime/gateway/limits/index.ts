import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { GatewayConfig } from '../../core/config-schema.js';
import { HttpProblem, openAIError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { LeafPlan } from '../pipeline/plan.js';
import type { UpstreamResult } from '../pipeline/upstream.js';
import type { GatewayState } from '../sync/gateway-state.js';
import { costCents, priceFor } from '../telemetry/pricing.js';
import { tapResponse, type ResponseTap } from '../telemetry/response-tap.js';
import { estimateTokens, promptChars, resolveUsage, usageFromResponse } from '../telemetry/usage.js';
import { budgetLedger, type BudgetCheck } from './budget-ledger.js';
import { parseUsageLimits } from './budgets.js';
import { memoryBudgetStore } from './budget-store.js';
import { memoryRateLimiter, type RateDecision } from './rate-limiter.js';
import { limitedMessage, setRateHeaders } from './rate-headers.js';
import { parseRateLimits, rulesFor, type ScopedRule } from './rules.js';
import type { AdmitArgs, Admission, EntityLimits, Limits, LimitSource, LimitsOptions, LimitsStats, Send } from './types.js';

export type { RateLimiter, RateRule, RateDecision } from './rate-limiter.js';
export { memoryRateLimiter } from './rate-limiter.js';
export { redisRateLimiter } from './redis-rate-limiter.js';
export { memoryBudgetStore, redisBudgetStore, type BudgetStore } from './budget-store.js';
export { reconciledUsage, type ReconciledUsage } from './reconciled-usage.js';
export { budgetClaims, type BudgetClaims } from './budget-claims.js';

export type { AdmitArgs, Admission, BudgetEvent, EntityLimits, LimitSource, Limits, LimitsOptions, LimitsStats, SettleArgs, UsageReportEntry } from './types.js';
export { duration } from './rate-headers.js';


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


function syntheticResponse(status: number, body: unknown, headers: Record<string, string>): UpstreamResult {
  const stream = Object.assign(Readable.from([Buffer.from(JSON.stringify(body))]), { dump: async () => {} });
  return { kind: 'response', status, headers: { 'content-type': 'application/json', ...headers }, body: stream } as unknown as UpstreamResult;
}


export function createLimits(opts: LimitsOptions = {}): Limits {
  const limiter = opts.limiter ?? memoryRateLimiter();
  const store = opts.budgets ?? memoryBudgetStore();
  const source = opts.source ?? defaultSource(opts);
  const now = opts.now ?? Date.now;
  const logger = opts.logger ?? silentLogger;
  const stats: LimitsStats = { admitted: 0, limited: 0, budget_exhausted: 0, degraded: 0 };
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

  const ledger = budgetLedger({ store, now, logger, reconciled: opts.reconciled, claims: opts.claims, onBudgetEvent: opts.onBudgetEvent, alertWebhook: opts.alertWebhook });
  const { exhausted, spend } = ledger;

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
    events: ledger.events,
    usageReport: ledger.usageReport,
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
