import type { AnalyticsCriteria } from '../../core/analytics.js';
import type { SqlQueryable } from '../../core/db.js';
import { findWorkspace } from '../db/workspaces-repo.js';
import { assertWorkspaceAccess, type Caller } from '../http/auth.js';
import { badRequest } from '../http/problems.js';

/**
 * The filters analytics and log search share, under Portkey's analytics parameter names:
 * `time_of_generation_min/max` (ISO 8601), `workspace_slug`, `ai_org_model` (`provider__model` or
 * `model`, comma separated), `provider`, `status_code`, `success`, `cost_min/max` (cents),
 * `total_units_min/max`, `prompt_token_min/max`, `completion_token_min/max`, `api_key_ids`,
 * `virtual_keys`, `configs` (slugs or ids), `prompt_id`/`prompt_slug`, `metadata` (JSON object,
 * key=value pairs that must all match), `trace_id`, `span_id`, `cache_status`.
 */
export interface Filter {
  where: string;
  params: unknown[];
  from: Date;
  to: Date;
  /** The clauses on request dimensions only (no org, time or workspace), for joins such as feedback's. */
  requestClauses: string[];
  /** Organisation, time range and workspace. */
  scopeClauses: string[];
  /** The workspace clause alone (empty when the whole organisation is in scope). */
  workspaceClauses: string[];
  /**
   * A filter the rollups cannot answer (trace or span id, numeric ranges):
   * such queries read raw rows only.
   */
  rawOnly: boolean;
  /**
   * `requestClauses` as the rollup tables read them. Differs only with one metadata pair, which
   * becomes `meta_key = .. AND meta_value = ..` on the metadata rollups (migration 67).
   */
  rollupClauses: string[];
  /** One metadata pair: rollup answers come from the metadata rollups instead of the plain ones. */
  metadataRollup: boolean;
  /**
   * Two or more metadata pairs: rollup answers come from the rollups keyed by the whole metadata
   * object (migration 69), which `requestClauses` apply to as they are.
   */
  metadataObjects: boolean;
  /** The same filter, store-neutral: what the Timestream analytics adapter reads. */
  criteria: AnalyticsCriteria;
}

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function time(value: string | undefined, name: string): Date | undefined {
  if (!value) return undefined;
  const d = new Date(/^\d+$/.test(value) ? Number(value) : value);
  if (Number.isNaN(d.getTime())) throw badRequest(`${name}: not a date (ISO 8601 expected)`);
  return d;
}

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw badRequest(`${name}: not a number`);
  return n;
}

export async function buildFilter(
  db: SqlQueryable,
  caller: Caller,
  query: Record<string, string | undefined>,
  opts: { defaultRangeMs?: number; alias?: string; scopeAlias?: string } = {},
): Promise<Filter> {
  const a = opts.alias ? `${opts.alias}.` : '';
  // Organisation, time and workspace may sit on another table (feedback) than the request clauses.
  const s = opts.scopeAlias ? `${opts.scopeAlias}.` : a;
  const params: unknown[] = [caller.organisationId];
  const clauses: string[] = [`${s}organisation_id = $1`];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };

  const to = time(query.time_of_generation_max, 'time_of_generation_max') ?? new Date();
  const from = time(query.time_of_generation_min, 'time_of_generation_min') ?? new Date(to.getTime() - (opts.defaultRangeMs ?? 24 * 3600_000));
  if (from > to) throw badRequest('time_of_generation_min: must not be after time_of_generation_max');
  clauses.push(`${s}created_at >= ${p(from.toISOString())}::timestamptz`, `${s}created_at <= ${p(to.toISOString())}::timestamptz`);

  const criteria: AnalyticsCriteria = {
    organisationId: caller.organisationId, from, to, workspaceId: null, models: [], providers: [], statuses: [], apiKeyIds: [], virtualKeys: [],
    traceIds: [], spanIds: [], cacheStatuses: [], promptIds: [], configIds: [], ranges: [], metadata: [],
  };
  const ws = query.workspace_slug || query.workspace_id;
  if (ws) {
    const found = await findWorkspace(db, caller.organisationId, ws);
    if (!found) throw badRequest(`workspace_slug: no workspace "${ws}" in this organisation`);
    assertWorkspaceAccess(caller, found.id);
    clauses.push(`${s}workspace_id = ${p(found.id)}`);
    criteria.workspaceId = found.id;
  } else if (caller.workspaceId) {
    clauses.push(`${s}workspace_id = ${p(caller.workspaceId)}`);
    criteria.workspaceId = caller.workspaceId;
  }
  const scopeCount = clauses.length;
  const workspaceClauses = clauses.slice(3);
  let rawOnly = false;

  const models = list(query.ai_org_model ?? query.model);
  if (models.length) {
    const ors = models.map((m) => {
      const [provider, model] = m.includes('__') ? m.split('__', 2) : [undefined, m];
      criteria.models.push(provider ? { provider, model } : { model });
      return provider ? `(${a}provider = ${p(provider)} AND ${a}model = ${p(model)})` : `${a}model = ${p(model)}`;
    });
    clauses.push(`(${ors.join(' OR ')})`);
  }
  const anyOf = (column: string, values: string[], cast = 'text') => {
    if (values.length) clauses.push(`${a}${column} = ANY(${p(values)}::${cast}[])`);
  };
  criteria.providers = list(query.provider ?? query.ai_provider);
  anyOf('provider', criteria.providers);
  const statuses = list(query.status_code).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw badRequest('status_code: comma-separated integers expected');
    return n;
  });
  if (statuses.length) clauses.push(`${a}status = ANY(${p(statuses)}::integer[])`);
  criteria.statuses = statuses;
  if (query.success === 'true' || query.success === 'false') {
    clauses.push(`${a}success = ${p(query.success === 'true')}`);
    criteria.success = query.success === 'true';
  }
  criteria.apiKeyIds = list(query.api_key_ids ?? query.api_key_id);
  criteria.virtualKeys = list(query.virtual_keys ?? query.virtual_key);
  anyOf('api_key_id', criteria.apiKeyIds);
  anyOf('virtual_key', criteria.virtualKeys);
  const traces = list(query.trace_id);
  const spans = list(query.span_id);
  anyOf('trace_id', traces);
  anyOf('span_id', spans);
  criteria.traceIds = traces;
  criteria.spanIds = spans;
  if (traces.length || spans.length) rawOnly = true;
  criteria.cacheStatuses = list(query.cache_status).map((s) => s.toUpperCase());
  anyOf('cache_status', criteria.cacheStatuses);
  criteria.promptIds = list(query.prompt_id ?? query.prompt_slug);
  anyOf('prompt_id', criteria.promptIds);
  const configs = list(query.configs ?? query.config_id);
  if (configs.length) {
    const ref = p(configs);
    clauses.push(`(${a}config_id = ANY(${ref}::text[]) OR ${a}config_id IN (SELECT id FROM configs WHERE organisation_id = $1 AND slug = ANY(${ref}::text[])))`);
    // Slugs live in Postgres only: a store without the configs table filters on the ids.
    const { rows } = await db.query<{ id: string }>('SELECT id FROM configs WHERE organisation_id = $1 AND slug = ANY($2::text[])', [caller.organisationId, configs]);
    criteria.configIds = [...new Set([...configs, ...rows.map((r) => r.id)])];
  }
  const ranges: [string, string][] = [
    ['cost', 'cost'],
    ['total_units', 'total_units'],
    ['prompt_token', 'req_units'],
    ['completion_token', 'res_units'],
    ['latency', 'total_ms'],
  ];
  for (const [name, column] of ranges) {
    const min = number(query[`${name}_min`], `${name}_min`);
    const max = number(query[`${name}_max`], `${name}_max`);
    if (min !== undefined) clauses.push(`${a}${column} >= ${p(min)}`);
    if (max !== undefined) clauses.push(`${a}${column} <= ${p(max)}`);
    if (min !== undefined || max !== undefined) {
      rawOnly = true;
      criteria.ranges.push({ measure: column as AnalyticsCriteria['ranges'][number]['measure'], min, max });
    }
  }
  let metadataClause = '';
  let metadataObjects = false;
  let metadataRollupClause = '';
  if (query.metadata) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(query.metadata);
    } catch {
      throw badRequest('metadata: expected a JSON object of key/value pairs');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('metadata: expected a JSON object of key/value pairs');
    const pairs = Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    const entries = Object.entries(pairs);
    criteria.metadata = entries;
    if (entries.length === 1) {
      // The same two parameters serve the raw containment test and the metadata rollups' columns.
      const [k, v] = [p(entries[0][0]), p(entries[0][1])];
      metadataClause = `${a}metadata @> jsonb_build_object(${k}::text, ${v}::text)`;
      // md5 first: the rollups' unique index holds the value's hash (migration 67).
      metadataRollupClause = `meta_key = ${k}::text AND md5(meta_value) = md5(${v}::text) AND meta_value = ${v}::text`;
      clauses.push(metadataClause);
    } else if (entries.length) {
      clauses.push(`${a}metadata @> ${p(JSON.stringify(pairs))}::jsonb`);
      metadataObjects = true;
    }
  }
  const requestClauses = clauses.slice(scopeCount);
  return {
    where: clauses.join(' AND '),
    params,
    from,
    to,
    requestClauses,
    scopeClauses: clauses.slice(0, scopeCount),
    workspaceClauses,
    rawOnly,
    rollupClauses: requestClauses.map((c) => (c === metadataClause ? metadataRollupClause : c)),
    metadataRollup: metadataClause !== '',
    metadataObjects,
    criteria,
  };
}

export type Granularity = 'minute' | 'hour' | 'day' | 'week';

/** Bucket size for graphs: `granularity` when given, else from the range (≤ 2 h minutes, ≤ 2 d hours, ≤ 90 d days, else weeks). */
export function granularity(filter: Pick<Filter, 'from' | 'to'>, requested: string | undefined): Granularity {
  if (requested === 'minute' || requested === 'hour' || requested === 'day' || requested === 'week') return requested;
  const span = filter.to.getTime() - filter.from.getTime();
  if (span <= 2 * 3600_000) return 'minute';
  if (span <= 2 * 86_400_000) return 'hour';
  if (span <= 90 * 86_400_000) return 'day';
  return 'week';
}
