import type { SqlDatabase } from '../../core/db.js';
import { BUDGET_CLAIMS_GRANTED_HEADER, BUDGET_CLAIMS_HEADER, decodeClaims, encodeClaims, type BudgetClaim } from '../../core/budget-usage.js';
import type { Logger } from '../../core/logger.js';
import { asApp, setTenant } from '../db/tenant.js';

/**
 * Grants the budget events a gateway claims on its pull: the first claim of a (key, period, kind)
 * wins, every later one (another gateway's, or a retry) is refused, so an alert fires once however
 * many gateways crossed the line. No claims sent: no header. A failure grants nothing and says so
 * by leaving the header out; the gateway then fires on its own rather than never.
 */
export async function budgetClaimHeaders(db: SqlDatabase, organisationId: string, raw: string | undefined, logger: Logger): Promise<Record<string, string>> {
  if (!raw) return {};
  const claims = decodeClaims(raw.slice(0, 16_384));
  if (!claims.length) return { [BUDGET_CLAIMS_GRANTED_HEADER]: '-' };
  try {
    const granted = await db.transaction(async (tx) => {
      await asApp(tx);
      await setTenant(tx, organisationId);
      const { rows } = await tx.query<{ scope: string; entity_id: string; budget_type: string; period: string; kind: string }>(
        `INSERT INTO budget_events (organisation_id, scope, entity_id, budget_type, period, kind)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT DO NOTHING RETURNING scope, entity_id, budget_type, period, kind`,
        [organisationId, claims.map((c) => c.scope), claims.map((c) => c.id), claims.map((c) => c.type), claims.map((c) => c.period), claims.map((c) => c.kind)],
      );
      return rows.map((r) => ({ scope: r.scope, id: r.entity_id, type: r.budget_type, period: r.period, kind: r.kind }) as BudgetClaim);
    });
    return { [BUDGET_CLAIMS_GRANTED_HEADER]: encodeClaims(granted) };
  } catch (err) {
    logger.warn('could not record budget events claimed by a gateway', { reason: (err as Error).message });
    return {};
  }
}

export { BUDGET_CLAIMS_HEADER };
