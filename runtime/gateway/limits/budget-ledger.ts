import type { Logger } from '../../core/logger.js';
import type { BudgetClaims } from './budget-claims.js';
import type { BudgetStore } from './budget-store.js';
import { budgetPeriod, formatAmount, type UsageLimits } from './budgets.js';
import type { ReconciledUsage } from './reconciled-usage.js';
import type { BudgetEvent, UsageReportEntry } from './types.js';

/** One budget of one entity, as a request meets it. */
export interface BudgetCheck {
  scope: 'api_key' | 'virtual_key';
  id: string;
  limits: UsageLimits;
}

export interface BudgetLedgerOptions {
  store: BudgetStore;
  now: () => number;
  logger: Logger;
  reconciled?: ReconciledUsage;
  claims?: BudgetClaims;
  onBudgetEvent?: (event: BudgetEvent) => void;
  alertWebhook?: string;
}

export interface BudgetLedger {
  /** Why the budget refuses a request (it is spent), else undefined. */
  exhausted(b: BudgetCheck): Promise<{ message: string; resetsAt?: number } | undefined>;
  /** Charges a settled request and fires the alert / exhaustion events it causes. */
  spend(b: BudgetCheck, amount: number): Promise<void>;
  events(): BudgetEvent[];
  usageReport(): UsageReportEntry[];
}

/**
 * Budget accounting: the enforced figure is max(this fleet's shared counter, the control plane's
 * figure), and each threshold fires once per period (fleet-wide when `claims` is wired).
 */
export function budgetLedger(opts: BudgetLedgerOptions): BudgetLedger {
  const { store, now, logger } = opts;
  const recent: BudgetEvent[] = [];
  const pendingReport = new Map<string, UsageReportEntry>();

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

  return {
    exhausted,
    spend,
    events: () => [...recent],
    usageReport() {
      const out = [...pendingReport.values()];
      pendingReport.clear();
      return out;
    },
  };
}
