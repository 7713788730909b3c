import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { HttpProblem, portkeyFailure } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ControlPlaneLambdaContext } from './handler.js';
import { json, type HandlerResult } from './response.js';

interface PgError {
  code?: string;
  statusCode?: number;
  expose?: boolean;
}

/**
 * Turns every failure into a JSON answer. Known problems keep their status; a unique-key clash is
 * a 409; anything else is a 500 whose body says nothing specific and whose log line carries only
 * the error's class and code, never request data (which may include secrets).
 */
export function errorMiddleware(
  logger: (context: ControlPlaneLambdaContext) => Logger,
): MiddlewareObj<APIGatewayProxyEventV2, HandlerResult, Error, ControlPlaneLambdaContext> {
  return {
    onError: async (request) => {
      const err = request.error as (Error & PgError) | null;
      if (err instanceof HttpProblem) {
        const retryAfter = (err as HttpProblem & { retryAfterSeconds?: number }).retryAfterSeconds;
        request.response = json(err.status, err.body, retryAfter ? { 'retry-after': String(retryAfter) } : {});
      } else if (err?.code === '23505') {
        request.response = json(409, portkeyFailure('a resource with this identifier already exists'));
      } else if (err?.expose && err.statusCode && err.statusCode < 500) {
        // http-errors raised by middy middlewares (e.g. the header normalizer) are safe to show.
        request.response = json(err.statusCode, portkeyFailure(err.message));
      } else {
        logger(request.context).error('control-plane request failed', {
          route: request.event.routeKey,
          error: err?.name ?? 'Error',
          code: err?.code,
        });
        request.response = json(500, portkeyFailure('internal error in the control plane'));
      }
    },
  };
}
