import { z } from 'zod';
import { budgetPeriod as sharedBudgetPeriod } from '../../core/budget-usage.js';

/**
 * `usage_limits` on API keys and virtual keys (Portkey's shape): a cost (dollars) or token budget
 * per period, an alert threshold in the same unit, and a periodic reset. The control plane may add
 * what it knows of the period's usage (`current_usage`, e.g. summed from every data plane's metrics);
 * the gateway then enforces max(its shared counter, that figure).
 */
export const usageLimitsSchema = z.object({
  type: z.enum(['cost', 'tokens']).default('cost'),
  credit_limit: z.number().positive(),
  alert_threshold: z.number().positive().optional(),
  periodic_reset: z.enum(['daily', 'weekly', 'monthly']).optional(),
  current_usage: z.number().nonnegative().optional(),
  /** The period `current_usage` belongs to (as `budgetPeriod` names it); absent: the current one. */
  usage_period: z.string().optional(),
});
export type UsageLimits = z.infer<typeof usageLimitsSchema>;

export interface BudgetPeriod {
  /** `2025-06-14` (daily), `w2025-06-09` (weekly, the Monday), `2025-06` (monthly), `all`. */
  id: string;
  /** When the next period starts (ms epoch); undefined when it never resets. */
  resetsAt?: number;
}

/** The control plane names periods with the same function (runtime/core/budget-usage.ts), so reconciled figures match. */
export function budgetPeriod(reset: UsageLimits['periodic_reset'], now: number): BudgetPeriod {
  const { id, resetsAt } = sharedBudgetPeriod(reset, now);
  return resetsAt === undefined ? { id } : { id, resetsAt };
}

const parsed = new WeakMap<object, UsageLimits | null>();

export function parseUsageLimits(raw: unknown): UsageLimits | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  let v = parsed.get(raw);
  if (v === undefined) {
    const r = usageLimitsSchema.safeParse(raw);
    v = r.success ? r.data : null;
    parsed.set(raw, v);
  }
  return v ?? undefined;
}

export function formatAmount(limits: UsageLimits, amount: number): string {
  return limits.type === 'cost' ? `$${amount.toFixed(amount < 1 ? 4 : 2)}` : `${Math.round(amount)} tokens`;
}
