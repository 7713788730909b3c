import type { SqlDatabase } from '../../core/db.js';
import {
  budgetPeriod,
  BUDGET_USAGE_HEADER,
  BUDGET_USAGE_SIGNATURE_HEADER,
  encodeBudgetUsage,
  type BudgetUsageEntry,
  type PeriodicReset,
} from '../../core/budget-usage.js';
import type { Logger } from '../../core/logger.js';
import { deriveSyncKey, signBody } from '../../core/sync-integrity.js';
import { asApp, setTenant } from '../db/tenant.js';

interface Limited {
  scope: 'api_key' | 'virtual_key';
  id: string;
  type: 'cost' | 'tokens';
  limit: number;
  period: string;
  since: string;
}

/** The fields reconciliation needs; anything unparsable is skipped (the gateway ignores it too). */
function limitedEntry(scope: Limited['scope'], id: string, raw: unknown, now: number): Limited | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const u = raw as Record<string, unknown>;
  const type = u.type === undefined ? 'cost' : u.type;
  const limit = Number(u.credit_limit);
  const reset = u.periodic_reset;
  if ((type !== 'cost' && type !== 'tokens') || !(limit > 0)) return undefined;
  if (reset !== undefined && reset !== 'daily' && reset !== 'weekly' && reset !== 'monthly') return undefined;
  const period = budgetPeriod(reset as PeriodicReset, now);
  return { scope, id, type, limit, period: period.id, since: new Date(period.startsAt).toISOString() };
}

type Sums = Map<string, { cost: number; tokens: number }>;

/**
 * Per org: the limited keys the sums were computed for, the sums, and the ingestion watermark they
 * cover. A heartbeat then reads only rows ingested since the watermark (index on ingested_at), so its
 * cost follows the traffic since the last heartbeat, not the size of the period.
 */
interface Running {
  keys: string;
  sums: Sums;
  watermark: string;
  fullAt: number;
}
const runningByDb = new WeakMap<SqlDatabase, Map<string, Running>>();
/** Sums are rebuilt from scratch this often (and whenever a key, a limit or a period changes). */
const FULL_EVERY_MS = 10 * 60_000;

function settleMs(): number {
  const n = Number(process.env.TOLLGATE_BUDGET_USAGE_SETTLE_MS);
  return Number.isFinite(n) && n >= 0 ? n : 10_000;
}

/**
 * One org's usage in the current period for every key with `usage_limits`, summed from the
 * ingested metric records (successful answers only, as the gateway counts). One read of the limited
 * keys, then one grouped query over `request_metrics` restricted to those keys and each key's period
 * start: over the whole period at first (and every 10 minutes), else over the rows ingested since.
 * Rows ingested in the last TOLLGATE_BUDGET_USAGE_SETTLE_MS (default 10 s) wait for the next
 * heartbeat, so a batch still committing is not skipped by the watermark.
 */
export async function computeBudgetUsage(db: SqlDatabase, organisationId: string, now = Date.now()): Promise<BudgetUsageEntry[]> {
  let running = runningByDb.get(db);
  if (!running) runningByDb.set(db, (running = new Map()));
  const state = running;
  return db.transaction(async (tx) => {
    await asApp(tx);
    await setTenant(tx, organisationId);
    const keys = await tx.query<{ scope: 'a' | 'v'; id: string; usage_limits: unknown }>(
      `SELECT 'a' AS scope, id, usage_limits FROM api_keys WHERE organisation_id = $1 AND usage_limits IS NOT NULL AND status = 'active'
       UNION ALL
       SELECT 'v', slug, usage_limits FROM virtual_keys WHERE organisation_id = $1 AND usage_limits IS NOT NULL AND status = 'active'`,
      [organisationId],
    );
    const limited = keys.rows
      .map((k) => limitedEntry(k.scope === 'a' ? 'api_key' : 'virtual_key', k.id, k.usage_limits, now))
      .filter((x): x is Limited => x !== undefined);
    if (!limited.length) {
      state.delete(organisationId);
      return [];
    }
    const keyOf = (scope: string, id: string) => `${scope}:${id}`;
    const signature = limited.map((l) => `${keyOf(l.scope, l.id)}@${l.since}`).sort().join('|');
    const prev = state.get(organisationId);
    const incremental = prev && prev.keys === signature && now - prev.fullAt < FULL_EVERY_MS ? prev : undefined;
    const mark = await tx.query<{ w: string }>(`SELECT to_char((now() - $1 * interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS w`, [settleMs()]);
    const watermark = mark.rows[0].w;
    const from = incremental?.watermark ?? '-infinity';
    const ak = limited.filter((l) => l.scope === 'api_key');
    const vk = limited.filter((l) => l.scope === 'virtual_key');
    const window = `m.ingested_at > $6::timestamptz AND m.ingested_at <= $7::timestamptz`;
    const rows = await tx.query<{ scope: 'a' | 'v'; id: string; cost: number | string | null; tokens: number | string | null }>(
      `SELECT 'a' AS scope, m.api_key_id AS id, sum(m.cost) AS cost, sum(m.total_units) AS tokens
         FROM request_metrics m JOIN unnest($2::text[], $3::text[]) AS l(id, since) ON m.api_key_id = l.id AND m.created_at >= l.since::timestamptz
        WHERE m.organisation_id = $1 AND m.success AND ${window} GROUP BY m.api_key_id
       UNION ALL
       SELECT 'v', m.virtual_key, sum(m.cost), sum(m.total_units)
         FROM request_metrics m JOIN unnest($4::text[], $5::text[]) AS l(id, since) ON m.virtual_key = l.id AND m.created_at >= l.since::timestamptz
        WHERE m.organisation_id = $1 AND m.success AND ${window} GROUP BY m.virtual_key`,
      [organisationId, ak.map((l) => l.id), ak.map((l) => l.since), vk.map((l) => l.id), vk.map((l) => l.since), from, watermark],
    );
    const sums: Sums = incremental ? incremental.sums : new Map();
    for (const r of rows.rows) {
      const key = keyOf(r.scope === 'a' ? 'api_key' : 'virtual_key', r.id);
      const acc = sums.get(key) ?? { cost: 0, tokens: 0 };
      acc.cost += Number(r.cost ?? 0);
      acc.tokens += Number(r.tokens ?? 0);
      sums.set(key, acc);
    }
    if (state.size > 10_000 && !state.has(organisationId)) state.clear();
    state.set(organisationId, { keys: signature, sums, watermark, fullAt: incremental?.fullAt ?? now });
    const out: (BudgetUsageEntry & { share: number })[] = [];
    for (const l of limited) {
      const acc = sums.get(keyOf(l.scope, l.id));
      // Metric cost is in cents; budgets are in dollars.
      const used = !acc ? 0 : l.type === 'cost' ? acc.cost / 100 : acc.tokens;
      if (used > 0) out.push({ scope: l.scope, id: l.id, type: l.type, period: l.period, used, share: used / l.limit });
    }
    // The header has a size cap: the keys nearest their limit go first.
    out.sort((a, b) => b.share - a.share);
    return out.map(({ share: _share, ...e }) => e);
  });
}

function cacheMs(): number {
  const n = Number(process.env.TOLLGATE_BUDGET_USAGE_CACHE_MS);
  return Number.isFinite(n) && n >= 0 ? n : 5_000;
}

/** Per org, a few seconds: every gateway task heartbeating at once costs one query, not one each. */
const cache = new Map<string, { at: number; value: Promise<string> }>();

/**
 * The headers every heartbeat answer (200 and 304) carries: the encoded usage and its HMAC under
 * the credential's payload key. Empty when the org has no budgets, or when the query fails (the
 * heartbeat never fails over it; gateways keep their own counters).
 */
export async function budgetUsageHeaders(db: SqlDatabase, organisationId: string, tokenHash: string, logger: Logger): Promise<Record<string, string>> {
  const now = Date.now();
  let hit = cache.get(organisationId);
  if (!hit || now - hit.at > cacheMs()) {
    if (cache.size > 10_000) cache.clear();
    hit = { at: now, value: computeBudgetUsage(db, organisationId, now).then((entries) => encodeBudgetUsage(entries)) };
    cache.set(organisationId, hit);
    hit.value.catch(() => cache.delete(organisationId));
  }
  try {
    const value = await hit.value;
    if (!value) return {};
    return { [BUDGET_USAGE_HEADER]: value, [BUDGET_USAGE_SIGNATURE_HEADER]: signBody(deriveSyncKey(tokenHash, 'payload'), value) };
  } catch (err) {
    logger.warn('could not compute budget usage for the heartbeat', { reason: (err as Error).message });
    return {};
  }
}
