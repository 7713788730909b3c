import { feedbackWeights, postgresAnalytics } from '../../adapters/postgres-analytics.js';
import type { AnalyticsGraph, AnalyticsGroupDimension, AnalyticsSource } from '../../core/analytics.js';
import { withCaller } from '../analytics/access.js';
import { buildFilter, type Filter } from '../analytics/filters.js';
import { feedbackByModel, feedbackGraph, feedbackScores } from '../analytics/feedback.js';
import { GROUP_COLUMNS } from '../analytics/queries.js';
import { controlPlaneHandler, type RouteFn, type RouteRequest } from '../http/handler.js';
import { badRequest, notFound } from '../http/problems.js';
import { json } from '../http/response.js';
import type { Caller } from '../http/auth.js';

const SCOPES = ['analytics.view', 'analytics.read', 'logs.read'];
const view = (fn: (req: RouteRequest, caller: Caller) => Promise<object>): RouteFn =>
  withCaller(SCOPES, async (req, caller) => json(200, await fn(req, caller)));

const requestFilter = (req: RouteRequest, caller: Caller) => buildFilter(req.ctx.db, caller, req.query);
const feedbackFilter = (req: RouteRequest, caller: Caller) => buildFilter(req.ctx.db, caller, req.query, { alias: 'm', scopeAlias: 'f' });

function page(query: Record<string, string | undefined>) {
  const size = query.page_size === undefined ? 20 : Number(query.page_size);
  const current = query.current_page === undefined ? 0 : Number(query.current_page);
  if (!Number.isInteger(size) || size < 1 || size > 500) throw badRequest('page_size: an integer from 1 to 500');
  if (!Number.isInteger(current) || current < 0) throw badRequest('current_page: an integer from 0');
  return { size, current };
}

/** Graphs and groups come from the configured metrics store (Postgres, or Timestream); feedback always from Postgres. */
const source = (req: RouteRequest): AnalyticsSource<Filter> => req.ctx.analytics ?? postgresAnalytics(req.ctx.db);

const groups = async (req: RouteRequest, caller: Caller, dimension: AnalyticsGroupDimension) => {
  const filter = await requestFilter(req, caller);
  return source(req).groupBy(filter, dimension, page(req.query), () => feedbackWeights(req.ctx.db, filter.criteria));
};

const simple = (name: AnalyticsGraph): RouteFn => view(async (req, caller) => source(req).graph(name, await requestFilter(req, caller), req.query.granularity));

/**
 * Portkey's analytics API (`portkey.analytics.graphs|groups|summary`). Each path is served under
 * both spellings in use: the SDK's (`errors-rate`) and the API reference's (`errors/rate`).
 */
const routes: Record<string, RouteFn> = {
  'GET /v1/analytics/graphs/requests': simple('requests'),
  'GET /v1/analytics/graphs/cost': simple('cost'),
  'GET /v1/analytics/graphs/tokens': simple('tokens'),
  'GET /v1/analytics/graphs/latency': simple('latency'),
  'GET /v1/analytics/graphs/users': simple('users'),
  'GET /v1/analytics/graphs/users-requests': simple('users-requests'),
  'GET /v1/analytics/graphs/users/requests': simple('users-requests'),
  'GET /v1/analytics/graphs/errors': simple('errors'),
  'GET /v1/analytics/graphs/errors-rate': simple('errors-rate'),
  'GET /v1/analytics/graphs/errors/rate': simple('errors-rate'),
  'GET /v1/analytics/graphs/cache-hit-rate': simple('cache-hit-rate'),
  'GET /v1/analytics/graphs/cache/hit-rate': simple('cache-hit-rate'),
  'GET /v1/analytics/graphs/cache-latency': simple('cache-latency'),
  'GET /v1/analytics/graphs/cache/latency': simple('cache-latency'),
  'GET /v1/analytics/graphs/errors-stack': view(async (req, c) => source(req).errorsStack(await requestFilter(req, c), req.query.granularity)),
  'GET /v1/analytics/graphs/errors/stacks': view(async (req, c) => source(req).errorsStack(await requestFilter(req, c), req.query.granularity)),
  'GET /v1/analytics/graphs/errors-status-code': view(async (req, c) => source(req).errorsByStatus(await requestFilter(req, c))),
  'GET /v1/analytics/graphs/errors/status-codes': view(async (req, c) => source(req).errorsByStatus(await requestFilter(req, c))),
  'GET /v1/analytics/graphs/requests-rescued': view(async (req, c) => source(req).rescued(await requestFilter(req, c), req.query.granularity)),
  'GET /v1/analytics/graphs/requests/rescued': view(async (req, c) => source(req).rescued(await requestFilter(req, c), req.query.granularity)),
  'GET /v1/analytics/graphs/feedbacks': view(async (req, c) => feedbackGraph(req.ctx.db, await feedbackFilter(req, c), req.query.granularity, 'total')),
  'GET /v1/analytics/graphs/feedbacks/weighted': view(async (req, c) => feedbackGraph(req.ctx.db, await feedbackFilter(req, c), req.query.granularity, 'weighted')),
  'GET /v1/analytics/graphs/feedbacks/score': view(async (req, c) => feedbackScores(req.ctx.db, await feedbackFilter(req, c))),
  'GET /v1/analytics/graphs/feedbacks/scores': view(async (req, c) => feedbackScores(req.ctx.db, await feedbackFilter(req, c))),
  'GET /v1/analytics/graphs/feedbacks/ai-models': view(async (req, c) => feedbackByModel(req.ctx.db, await feedbackFilter(req, c))),
  'GET /v1/analytics/summary/cache': view(async (req, c) => source(req).cacheSummary(await requestFilter(req, c))),
  'GET /v1/analytics/groups/ai-models': view((req, c) => groups(req, c, GROUP_COLUMNS['ai-models'])),
  'GET /v1/analytics/groups/users': view((req, c) => groups(req, c, GROUP_COLUMNS.users)),
  'GET /v1/analytics/groups/metadata/{metadataKey}': view((req, c) => groups(req, c, { metadataKey: req.params.metadataKey ?? '' })),
  'GET /v1/analytics/groups/{groupBy}': view(async (req, c) => {
    const dimension = GROUP_COLUMNS[req.params.groupBy ?? ''];
    if (!dimension) throw notFound(`no analytics group "${req.params.groupBy}"; one of ${Object.keys(GROUP_COLUMNS).join(', ')}`);
    return groups(req, c, dimension);
  }),
};


export const handler = controlPlaneHandler('analytics', routes);
