/**
 * One table of control-plane routes, read by both the local HTTP adapter and the CDK ControlPlane
 * construct, so the routes `tollgate dev` serves are the routes API Gateway serves.
 * Each handler is `runtime/control-plane/handlers/<handler>.ts`, exporting `handler`
 * (a middy handler over API Gateway HTTP API v2 events).
 */
import { analyticsRoutes } from './analytics/routes.js';

export interface ControlPlaneRoute {
  /** API Gateway HTTP API route key, e.g. `GET /v1/configs/{slug}`. */
  routeKey: string;
  handler: ControlPlaneHandlerName;
}

import { adminHandlers, adminRoutes } from './routes-admin.js';

export const controlPlaneHandlers = ['workspaces', 'virtual-keys', 'configs', 'api-keys', 'sync', 'data-planes', 'ingest', 'analytics', 'logs', 'feedback', ...adminHandlers] as const;
export type ControlPlaneHandlerName = (typeof controlPlaneHandlers)[number];

const crud = (base: string, param: string, handler: ControlPlaneHandlerName): ControlPlaneRoute[] => [
  { routeKey: `GET ${base}`, handler },
  { routeKey: `POST ${base}`, handler },
  { routeKey: `GET ${base}/{${param}}`, handler },
  { routeKey: `PUT ${base}/{${param}}`, handler },
  { routeKey: `DELETE ${base}/{${param}}`, handler },
];

export const controlPlaneRoutes: ControlPlaneRoute[] = [
  ...crud('/v1/admin/workspaces', 'workspaceId', 'workspaces'),
  ...crud('/v1/virtual-keys', 'slug', 'virtual-keys'),
  ...crud('/v1/configs', 'slug', 'configs'),
  { routeKey: 'GET /v1/configs/{slug}/versions', handler: 'configs' },
  { routeKey: 'GET /v1/configs/{slug}/diff', handler: 'configs' },
  { routeKey: 'GET /v1/api-keys', handler: 'api-keys' },
  { routeKey: 'POST /v1/api-keys/{type}/{subType}', handler: 'api-keys' },
  { routeKey: 'GET /v1/api-keys/{id}', handler: 'api-keys' },
  { routeKey: 'PUT /v1/api-keys/{id}', handler: 'api-keys' },
  { routeKey: 'DELETE /v1/api-keys/{id}', handler: 'api-keys' },
  { routeKey: 'GET /v1/sync/snapshot', handler: 'sync' },
  { routeKey: 'GET /v1/sync/wait', handler: 'sync' },
  { routeKey: 'GET /v1/data-planes', handler: 'data-planes' },
  // Observability (issue 6): gateway ingestion (data-plane credential), analytics, log search, feedback.
  { routeKey: 'POST /v1/ingest/metrics', handler: 'ingest' },
  { routeKey: 'POST /v1/ingest/logs', handler: 'ingest' },
  ...analyticsRoutes.map((routeKey) => ({ routeKey, handler: 'analytics' as const })),
  { routeKey: 'GET /v1/logs', handler: 'logs' },
  { routeKey: 'GET /v1/logs/export', handler: 'logs' },
  { routeKey: 'GET /v1/logs/{id}', handler: 'logs' },
  { routeKey: 'POST /v1/feedback', handler: 'feedback' },
  { routeKey: 'PUT /v1/feedback/{id}', handler: 'feedback' },
  ...adminRoutes,
];
