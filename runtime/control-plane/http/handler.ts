import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { jsonLogger } from '../../core/logger.js';
import { getControlPlaneContext, type ControlPlaneContext } from '../context.js';
import { matchRoute } from '../route-match.js';
import type { ControlPlaneHandlerName } from '../routes.js';
import { errorMiddleware } from './error-middleware.js';
import { parseJsonBody } from './json-body.js';
import { notFound } from './problems.js';
import type { HandlerResult } from './response.js';

export interface RouteRequest {
  event: APIGatewayProxyEventV2;
  ctx: ControlPlaneContext;
  headers: Record<string, string | undefined>;
  params: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  body: Record<string, unknown>;
}

export type RouteFn = (req: RouteRequest) => Promise<HandlerResult>;

/**
 * The local adapter passes its own context on the Lambda context object, so several control planes
 * can run in one process (tests); in Lambda the field is absent and the process context is used.
 */
export interface ControlPlaneLambdaContext extends Context {
  tollgateControlPlane?: ControlPlaneContext;
}

const fallbackLogger = jsonLogger('control-plane');

/**
 * One middy handler per resource, dispatching on the API Gateway route key. When API Gateway sends a
 * catch-all route key (`$default`, `ANY /{proxy+}`) we match the path against routes.ts ourselves.
 */
export function controlPlaneHandler(name: ControlPlaneHandlerName, routes: Record<string, RouteFn>) {
  return middy<APIGatewayProxyEventV2, HandlerResult, Error, ControlPlaneLambdaContext>()
    .use(httpHeaderNormalizer())
    .use(errorMiddleware((context) => context.tollgateControlPlane?.logger ?? fallbackLogger))
    .handler(async (event, context) => {
      // Remembered on the invocation's context so the error middleware logs with the same logger.
      const ctx = (context.tollgateControlPlane ??= await getControlPlaneContext());
      let routeKey = event.routeKey;
      let params = event.pathParameters ?? {};
      if (!routes[routeKey]) {
        const matched = matchRoute(event.requestContext.http.method, event.rawPath);
        if (!matched || matched.route.handler !== name) throw notFound(`no route for ${event.requestContext.http.method} ${event.rawPath}`);
        routeKey = matched.route.routeKey;
        params = matched.pathParameters;
      }
      const route = routes[routeKey];
      if (!route) throw notFound(`no route for ${routeKey}`);
      return route({
        event,
        ctx,
        headers: event.headers ?? {},
        params,
        query: event.queryStringParameters ?? {},
        body: parseJsonBody(event),
      });
    });
}
