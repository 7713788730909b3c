import { BUDGET_USAGE_HEADER, BUDGET_USAGE_SIGNATURE_HEADER, decodeBudgetUsage, type BudgetScope, type BudgetType } from '../../core/budget-usage.js';
import { hashSecret } from '../../core/secrets.js';
import { deriveSyncKey, verifyBody } from '../../core/sync-integrity.js';

type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * What the control plane last said each budgeted key used this period (summed from every data
 * plane's metrics), taken from the heartbeat answer. The budget check enforces
 * max(shared counter, this figure): it survives a Redis flush and spans gateways that share no Redis.
 */
export interface ReconciledUsage {
  /** Dollars or tokens; 0 when the control plane reported nothing for this key and period. */
  get(scope: BudgetScope, id: string, type: BudgetType, period: string): number;
  /** Reads a heartbeat answer's headers (200 or 304). An unsigned or forged report is ignored. */
  accept(headers: HeaderBag): void;
  /** When the last verified report arrived (ms epoch); 0 before the first. */
  readonly updatedAt: number;
}

const keyOf = (scope: BudgetScope, id: string, type: BudgetType, period: string) => `${scope}\u0000${id}\u0000${type}\u0000${period}`;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export function reconciledUsage(dataPlaneToken: string, now: () => number = Date.now): ReconciledUsage {
  const key = deriveSyncKey(hashSecret(dataPlaneToken), 'payload');
  let figures = new Map<string, number>();
  let updatedAt = 0;
  return {
    get: (scope, id, type, period) => figures.get(keyOf(scope, id, type, period)) ?? 0,
    get updatedAt() {
      return updatedAt;
    },
    accept(headers) {
      const value = one(headers[BUDGET_USAGE_HEADER]) ?? '';
      const signature = one(headers[BUDGET_USAGE_SIGNATURE_HEADER]);
      // No header: no news (nothing spent yet, an older control plane, or its query failed); keep what we had.
      if (!value || !verifyBody(key, value, signature)) return;
      const next = new Map<string, number>();
      for (const e of decodeBudgetUsage(value)) next.set(keyOf(e.scope, e.id, e.type, e.period), e.used);
      // Each report is the whole picture (a key left out used nothing, or was cut by the size cap,
      // in which case it is far from its limit): replace rather than merge.
      figures = next;
      updatedAt = now();
    },
  };
}
