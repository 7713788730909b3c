import type { SqlDatabase, SqlQueryable } from '../core/db.js';
import type { MetricRecord, MetricsStore } from '../core/metrics.js';
import { withTenant } from '../control-plane/db/tenant.js';

/**
 * The default metrics store: `request_metrics` in the control plane's Postgres (Aurora, or PGlite
 * locally). One statement per batch: every column travels as one array parameter and `unnest`
 * turns them back into rows, so 5 000 records cost one round trip. `ON CONFLICT DO NOTHING` on
 * (organisation_id, id) makes a retried batch a no-op. Rows are written as the app role scoped to
 * their organisation, so row-level security checks every row.
 */
type Column = [name: string, pgType: string, get: (r: MetricRecord) => unknown];

const COLUMNS: Column[] = [
  ['id', 'text', (r) => r.id],
  ['workspace_id', 'text', (r) => r.workspace_id],
  ['created_at', 'timestamptz', (r) => r.created_at],
  ['api_key_id', 'text', (r) => r.api_key_id],
  ['virtual_key', 'text', (r) => r.virtual_key],
  ['config_id', 'text', (r) => r.config_id],
  ['config_version', 'integer', (r) => r.config_version],
  ['prompt_id', 'text', (r) => r.prompt_id],
  ['prompt_version', 'integer', (r) => r.prompt_version],
  ['provider', 'text', (r) => r.provider],
  ['model', 'text', (r) => r.model],
  ['endpoint', 'text', (r) => r.endpoint],
  ['method', 'text', (r) => r.method],
  ['stream', 'boolean', (r) => r.stream],
  ['status', 'integer', (r) => r.status],
  ['success', 'boolean', (r) => r.success],
  ['cache_status', 'text', (r) => r.cache_status],
  ['retry_count', 'integer', (r) => r.retry_count],
  ['last_used_option_index', 'text', (r) => r.last_used_option_index],
  ['rescued_by', 'text', (r) => r.rescued_by],
  ['req_units', 'integer', (r) => r.req_units],
  ['res_units', 'integer', (r) => r.res_units],
  ['total_units', 'integer', (r) => r.total_units],
  ['units_estimated', 'boolean', (r) => r.units_estimated],
  ['cost', 'double precision', (r) => r.cost],
  ['currency', 'text', (r) => r.currency],
  ['cost_unknown', 'boolean', (r) => r.cost_unknown],
  ['total_ms', 'integer', (r) => r.total_ms],
  ['upstream_ms', 'integer', (r) => r.upstream_ms],
  ['gateway_ms', 'integer', (r) => r.gateway_ms],
  ['trace_id', 'text', (r) => r.trace_id],
  ['span_id', 'text', (r) => r.span_id],
  ['parent_span_id', 'text', (r) => r.parent_span_id],
  ['span_name', 'text', (r) => r.span_name],
  ['metadata', 'jsonb', (r) => JSON.stringify(r.metadata ?? {})],
  ['end_user', 'text', (r) => r.user],
  ['client_runtime', 'text', (r) => r.client_runtime],
  ['client_runtime_version', 'text', (r) => r.client_runtime_version],
  ['client_sdk', 'text', (r) => r.client_sdk],
  ['client_sdk_version', 'text', (r) => r.client_sdk_version],
  ['log_location', 'text', (r) => r.log_location],
  ['log_key', 'text', (r) => r.log_key],
  ['log_token', 'text', (r) => r.log_token],
];

// jsonb travels as text[] and is cast per row (a jsonb[] parameter would need array-literal quoting).
const INSERT_SQL = `WITH ins AS (
  INSERT INTO request_metrics (organisation_id, source_id, ${COLUMNS.map((c) => c[0]).join(', ')})
  SELECT $1, $2, ${COLUMNS.map((c) => (c[1] === 'jsonb' ? `t.${c[0]}::jsonb` : `t.${c[0]}`)).join(', ')}
  FROM unnest(${COLUMNS.map((c, i) => `$${i + 3}::${c[1] === 'jsonb' ? 'text' : c[1]}[]`).join(', ')}) AS t(${COLUMNS.map((c) => c[0]).join(', ')})
  ON CONFLICT (organisation_id, id) DO NOTHING
  RETURNING 1
) SELECT count(*)::int AS inserted FROM ins`;

/** Inserts one organisation's records inside an already tenant-scoped transaction. */
export async function insertMetrics(tx: SqlQueryable, organisationId: string, records: readonly MetricRecord[], sourceId: string | null): Promise<number> {
  if (!records.length) return 0;
  const params: unknown[] = [organisationId, sourceId];
  for (const [, , get] of COLUMNS) params.push(records.map(get));
  const { rows } = await tx.query<{ inserted: number }>(INSERT_SQL, params);
  return Number(rows[0]?.inserted ?? 0);
}

export function postgresMetricsStore(db: SqlDatabase): MetricsStore {
  return {
    async write(records, source) {
      const byOrg = new Map<string, MetricRecord[]>();
      for (const r of records) {
        const list = byOrg.get(r.organisation_id);
        if (list) list.push(r);
        else byOrg.set(r.organisation_id, [r]);
      }
      let inserted = 0;
      for (const [org, list] of byOrg) {
        inserted += await withTenant(db, org, (scoped) => insertMetrics(scoped, org, list, source?.credentialId ?? null));
      }
      return { inserted };
    },
    async close() {},
  };
}
