import type { z } from 'zod';

/** The zod schemas a route validates with: the OpenAPI document is generated from these very objects. */
export interface RouteSchemas {
  body?: z.ZodType;
  query?: z.ZodType;
  summary?: string;
}
export type OpenApiSchemas = Record<string, RouteSchemas>;
