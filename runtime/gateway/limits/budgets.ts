import { z } from 'zod';

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
  /** `2025-06-14` (daily), `2025-W24` style Monday date `w2025-06-09` (weekly), `2025-06` (monthly), `all`. */
  id: string;
  /** When the next period starts (ms epoch); undefined when it never resets. */
  resetsAt?: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function budgetPeriod(reset: UsageLimits['periodic_reset'], now: number): BudgetPeriod {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  if (reset === 'daily') return { id: `${y}-${pad(m + 1)}-${pad(day)}`, resetsAt: Date.UTC(y, m, day + 1) };
  if (reset === 'weekly') {
    const sinceMonday = (d.getUTCDay() + 6) % 7;
    const start = new Date(Date.UTC(y, m, day - sinceMonday));
    return { id: `w${start.getUTCFullYear()}-${pad(start.getUTCMonth() + 1)}-${pad(start.getUTCDate())}`, resetsAt: Date.UTC(y, m, day - sinceMonday + 7) };
  }
  if (reset === 'monthly') return { id: `${y}-${pad(m + 1)}`, resetsAt: Date.UTC(y, m + 1, 1) };
  return { id: 'all' };
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
