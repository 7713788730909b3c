/**
 * Budget reconciliation between the control plane and the gateways (issue 9). On every heartbeat
 * answer (200 and 304 alike) the control plane sends, for the org's keys that carry `usage_limits`,
 * what its ingested metrics say was used in the current period. The gateway then enforces
 * max(its own counter, this figure), so a budget holds across gateways that share no Redis and
 * after a Redis flush. See docs/guardrails.md, "Reconciling with the control plane".
 */
export const BUDGET_USAGE_HEADER = 'x-tollgate-budget-usage';
/** HMAC of the header value under the data-plane credential's payload key (as sync bodies are signed). */
export const BUDGET_USAGE_SIGNATURE_HEADER = 'x-tollgate-budget-usage-signature';
/**
 * Headers must stay well under proxies' limits (API Gateway and Node allow 10-16 KB in all), so
 * the control plane sends the keys closest to their limit first and stops at this size.
 */
export const BUDGET_USAGE_MAX_BYTES = 6_000;

export type BudgetScope = 'api_key' | 'virtual_key';
export type BudgetType = 'cost' | 'tokens';
export type PeriodicReset = 'daily' | 'weekly' | 'monthly' | undefined;

export interface BudgetUsageEntry {
  scope: BudgetScope;
  /** API key id, or virtual key slug (what the metric record's `virtual_key` holds). */
  id: string;
  type: BudgetType;
  /** As `budgetPeriod` names it. */
  period: string;
  /** Dollars for `cost`, tokens for `tokens`. */
  used: number;
}

export interface BudgetPeriod {
  /** `2025-06-14` (daily), `w2025-06-09` (weekly, the Monday), `2025-06` (monthly), `all`. */
  id: string;
  /** When the period started (ms epoch); 0 when it never resets. */
  startsAt: number;
  /** When the next period starts (ms epoch); undefined when it never resets. */
  resetsAt?: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Periods are in UTC; weeks start on Monday. Shared by the gateway and the control plane so both name the same period. */
export function budgetPeriod(reset: PeriodicReset, now: number): BudgetPeriod {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  if (reset === 'daily') return { id: `${y}-${pad(m + 1)}-${pad(day)}`, startsAt: Date.UTC(y, m, day), resetsAt: Date.UTC(y, m, day + 1) };
  if (reset === 'weekly') {
    const sinceMonday = (d.getUTCDay() + 6) % 7;
    const start = new Date(Date.UTC(y, m, day - sinceMonday));
    return {
      id: `w${start.getUTCFullYear()}-${pad(start.getUTCMonth() + 1)}-${pad(start.getUTCDate())}`,
      startsAt: start.getTime(),
      resetsAt: Date.UTC(y, m, day - sinceMonday + 7),
    };
  }
  if (reset === 'monthly') return { id: `${y}-${pad(m + 1)}`, startsAt: Date.UTC(y, m, 1), resetsAt: Date.UTC(y, m + 1, 1) };
  return { id: 'all', startsAt: 0 };
}

/**
 * Compact wire form: `<a|v>:<c|t>:<period>:<used>:<id>` joined by `,`; the id is URI-encoded so
 * it never contains `:` or `,`. Entries past `maxBytes` are dropped (callers sort the most urgent first).
 */
export function encodeBudgetUsage(entries: readonly BudgetUsageEntry[], maxBytes = BUDGET_USAGE_MAX_BYTES): string {
  const parts: string[] = [];
  let size = 0;
  for (const e of entries) {
    const used = e.type === 'tokens' ? String(Math.round(e.used)) : String(Math.round(e.used * 1e8) / 1e8);
    const part = `${e.scope === 'api_key' ? 'a' : 'v'}:${e.type === 'cost' ? 'c' : 't'}:${e.period}:${used}:${encodeURIComponent(e.id)}`;
    if (size + part.length + 1 > maxBytes) break;
    parts.push(part);
    size += part.length + 1;
  }
  return parts.join(',');
}

/** Malformed entries are skipped, never thrown on: a heartbeat must not fail over its usage report. */
export function decodeBudgetUsage(value: string): BudgetUsageEntry[] {
  const out: BudgetUsageEntry[] = [];
  if (!value) return out;
  for (const part of value.split(',')) {
    const [scope, type, period, used, id] = part.split(':');
    const n = Number(used);
    if ((scope !== 'a' && scope !== 'v') || (type !== 'c' && type !== 't') || !period || !id || !Number.isFinite(n) || n < 0) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(id);
    } catch {
      continue;
    }
    out.push({ scope: scope === 'a' ? 'api_key' : 'virtual_key', type: type === 'c' ? 'cost' : 'tokens', period, used: n, id: decoded });
  }
  return out;
}

/**
 * Budget events (`alert`, `exhausted`) fire once per period across the whole fleet: a gateway whose
 * request crossed the line claims the event on its next pull (request header), and the control plane
 * grants each (key, period, kind) once (answer header). Gateways that share no Redis would otherwise
 * each fire their own.
 */
export const BUDGET_CLAIMS_HEADER = 'x-tollgate-budget-claims';
export const BUDGET_CLAIMS_GRANTED_HEADER = 'x-tollgate-budget-claims-granted';

export interface BudgetClaim {
  scope: BudgetScope;
  id: string;
  type: BudgetType;
  period: string;
  kind: 'alert' | 'exhausted';
}

/** `<a|v>:<c|t>:<period>:<a|e>:<id>` joined by `,`; `-` is an empty list (so "none granted" is still an answer). */
export function encodeClaims(claims: readonly BudgetClaim[]): string {
  if (!claims.length) return '-';
  return claims
    .map((c) => `${c.scope === 'api_key' ? 'a' : 'v'}:${c.type === 'cost' ? 'c' : 't'}:${c.period}:${c.kind === 'alert' ? 'a' : 'e'}:${encodeURIComponent(c.id)}`)
    .join(',');
}

export function claimKey(c: BudgetClaim): string {
  return encodeClaims([c]);
}

export function decodeClaims(value: string | undefined, max = 200): BudgetClaim[] {
  const out: BudgetClaim[] = [];
  if (!value || value === '-') return out;
  for (const part of value.split(',').slice(0, max)) {
    const [scope, type, period, kind, id] = part.split(':');
    if ((scope !== 'a' && scope !== 'v') || (type !== 'c' && type !== 't') || (kind !== 'a' && kind !== 'e') || !period || period.length > 16 || !id) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(id);
    } catch {
      continue;
    }
    if (decoded.length > 255) continue;
    out.push({ scope: scope === 'a' ? 'api_key' : 'virtual_key', type: type === 'c' ? 'cost' : 'tokens', period, kind: kind === 'a' ? 'alert' : 'exhausted', id: decoded });
  }
  return out;
}
