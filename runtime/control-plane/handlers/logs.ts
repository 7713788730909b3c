import { buildFilter } from '../analytics/filters.js';
import { requestCount } from '../analytics/queries.js';
import { withCaller } from '../analytics/access.js';
import { controlPlaneHandler } from '../http/handler.js';
import { badRequest, notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import { fetchLogBody, type IndexedLog } from '../logs/bodies.js';
import { presentLog, toCsv, type MetricRow } from '../logs/present.js';

const ORDER_COLUMNS: Record<string, string> = {
  created_at: 'created_at',
  time_of_generation: 'created_at',
  cost: 'cost',
  latency: 'total_ms',
  response_time: 'total_ms',
  total_units: 'total_units',
  tokens: 'total_units',
  status: 'status',
};
const DAY = 86_400_000;
const EXPORT_LIMIT = 100_000;

function orderBy(query: Record<string, string | undefined>): string {
  const column = ORDER_COLUMNS[query.order_by ?? 'created_at'];
  if (!column) throw badRequest(`order_by: one of ${Object.keys(ORDER_COLUMNS).join(', ')}`);
  const dir = (query.order_by_type ?? 'desc').toLowerCase();
  if (dir !== 'asc' && dir !== 'desc') throw badRequest('order_by_type: asc or desc');
  return `${column} ${dir.toUpperCase()}, id ${dir.toUpperCase()}`;
}

function pageParams(query: Record<string, string | undefined>): { size: number; page: number } {
  const size = query.page_size === undefined ? 50 : Number(query.page_size);
  const page = query.current_page === undefined ? 0 : Number(query.current_page);
  if (!Number.isInteger(size) || size < 1 || size > 500) throw badRequest('page_size: an integer from 1 to 500');
  if (!Number.isInteger(page) || page < 0) throw badRequest('current_page: an integer from 0');
  return { size, page };
}

/**
 * Log search over the index rows the gateways send with their metrics (no body is fetched for a
 * list), one log with its body (from the control plane's store, or from the gateway that kept it),
 * and export as JSONL or CSV. Filters: see analytics/filters.ts; default range: the last 30 days.
 */
export const handler = controlPlaneHandler('logs', {
  'GET /v1/logs': withCaller(['logs.read', 'logs.list', 'logs.view'], async ({ ctx, query }, caller) => {
    const filter = await buildFilter(ctx.db, caller, query, { defaultRangeMs: 30 * DAY });
    const { size, page } = pageParams(query);
    const [{ rows }, total] = await Promise.all([
      ctx.db.query<MetricRow>(
        `SELECT * FROM request_metrics WHERE ${filter.where} ORDER BY ${orderBy(query)} LIMIT ${size} OFFSET ${size * page}`,
        filter.params,
      ),
      // The total from the rollups where they can answer (the same count as the raw rows').
      requestCount(ctx.db, filter),
    ]);
    return json(200, { object: 'list', total, page_size: size, current_page: page, data: rows.map(presentLog) });
  }),

  'GET /v1/logs/export': withCaller(['logs.read', 'logs.export'], async ({ ctx, query }, caller) => {
    const format = (query.format ?? 'jsonl').toLowerCase();
    if (format !== 'jsonl' && format !== 'csv') throw badRequest('format: jsonl or csv');
    const filter = await buildFilter(ctx.db, caller, query, { defaultRangeMs: 30 * DAY });
    const { rows } = await ctx.db.query<MetricRow>(
      `SELECT * FROM request_metrics WHERE ${filter.where} ORDER BY ${orderBy(query)} LIMIT ${EXPORT_LIMIT}`,
      filter.params,
    );
    const presented = rows.map(presentLog);
    const body = format === 'csv' ? toCsv(presented) : presented.map((r) => JSON.stringify(r)).join('\n') + (presented.length ? '\n' : '');
    return {
      statusCode: 200,
      headers: {
        'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
        'content-disposition': `attachment; filename="tollgate-logs.${format}"`,
        'x-tollgate-truncated': String(rows.length === EXPORT_LIMIT),
      },
      body,
    };
  }),

  'GET /v1/logs/{id}': withCaller(['logs.read', 'logs.view'], async ({ ctx, params }, caller) => {
    const id = params.id ?? '';
    const { rows } = await ctx.db.query<MetricRow>(
      `SELECT * FROM request_metrics WHERE organisation_id = $1 AND (id = $2 OR trace_id = $2) ORDER BY (id = $2) DESC, created_at DESC LIMIT 1`,
      [caller.organisationId, id],
    );
    const row = rows[0];
    if (!row) throw notFound(`log "${id}" not found`);
    const [body, feedback] = await Promise.all([
      fetchLogBody(ctx, ctx.db, row as IndexedLog),
      row.trace_id
        ? ctx.db.query(
            'SELECT id, value, weight, metadata, created_at, updated_at FROM feedback WHERE organisation_id = $1 AND trace_id = $2 ORDER BY created_at',
            [caller.organisationId, row.trace_id],
          )
        : Promise.resolve({ rows: [] }),
    ]);
    const full = body.ok ? (body.log as { request?: unknown; response?: unknown }) : undefined;
    return json(200, {
      ...presentLog(row),
      request: full?.request ?? null,
      response: full?.response ?? null,
      body_error: body.ok ? null : { status: body.status, message: body.message },
      feedback: feedback.rows,
    });
  }),
});
