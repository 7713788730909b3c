import { z } from 'zod';
import { TOLLGATE_VERSION } from '../../core/version.js';
import { openapi as auditSchemas } from '../api/audit-logs.js';
import { openapi as authSchemas } from '../api/auth.js';
import { openapi as guardrailSchemas } from '../api/guardrails.js';
import { openapi as inviteSchemas } from '../api/invites.js';
import { openapi as memberSchemas } from '../api/members.js';
import { openapi as partialSchemas } from '../api/partials.js';
import { openapi as platformSchemas } from '../api/platform.js';
import { openapi as pricingSchemas } from '../api/pricing.js';
import { openapi as promptSchemas } from '../api/prompts.js';
import { openapi as userSchemas } from '../api/users.js';
import { openapi as apiKeySchemas } from '../handlers/api-keys.js';
import { openapi as configSchemas } from '../handlers/configs.js';
import { openapi as virtualKeySchemas } from '../handlers/virtual-keys.js';
import { openapi as workspaceSchemas } from '../handlers/workspaces.js';
import { controlPlaneRoutes } from '../routes.js';
import type { RouteSchemas } from './types.js';

const schemas: Record<string, RouteSchemas> = {
  ...auditSchemas, ...authSchemas, ...guardrailSchemas, ...inviteSchemas, ...memberSchemas, ...partialSchemas, ...platformSchemas,
  ...pricingSchemas, ...promptSchemas, ...userSchemas, ...apiKeySchemas, ...configSchemas, ...virtualKeySchemas, ...workspaceSchemas,
};

const jsonSchema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
const failure = { $ref: '#/components/schemas/Failure' };
const errors = Object.fromEntries(
  [
    ['400', 'Bad input; the message names the field'],
    ['401', 'Missing or invalid credential'],
    ['403', 'The key lacks the scope, or the role does not allow it'],
    ['404', 'Not found (or not visible to this caller)'],
    ['409', 'Stale version (If-Match / version), or a conflicting state'],
  ].map(([code, description]) => [code, { description, content: { 'application/json': { schema: failure } } }]),
);
const paging = [
  { name: 'current_page', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
  { name: 'page_size', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
];

function security(path: string) {
  if (path.startsWith('/v1/platform/')) return [{ platformAdmin: [] }];
  if (path.startsWith('/v1/sync/') || path.startsWith('/v1/ingest/')) return [{ dataPlane: [] }];
  if (path.startsWith('/v1/auth/') || path === '/v1/openapi.json') return [];
  return [{ apiKey: [] }, { session: [] }];
}

function queryParameters(s: z.ZodType | undefined) {
  if (!s) return [];
  const props = (jsonSchema(s).properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(props).map(([name, schema]) => ({ name, in: 'query', required: false, schema }));
}

let built: Record<string, unknown> | undefined;

/** OpenAPI 3.1, generated from the route table and the zod schemas the handlers validate with. */
export function openApiDocument(): Record<string, unknown> {
  if (built) return built;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { routeKey, handler } of controlPlaneRoutes) {
    const [method, path] = routeKey.split(' ') as [string, string];
    const s = schemas[routeKey] ?? {};
    const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const isList = method === 'GET' && !path.endsWith('}') && !path.endsWith('.json');
    const operation: Record<string, unknown> = {
      operationId: routeKey.replace(/[^A-Za-z0-9]+/g, '_').replace(/_+$/, ''),
      tags: [handler],
      summary: s.summary ?? routeKey,
      security: security(path),
      parameters: [...pathParams, ...queryParameters(s.query), ...(isList ? paging : []), ...(method === 'PUT' ? [{ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } }] : [])],
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } }, ...errors },
    };
    if (s.body) operation.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(s.body) } } };
    (paths[path] ??= {})[method.toLowerCase()] = operation;
  }
  built = {
    openapi: '3.1.0',
    info: { title: 'Tollgate control plane API', version: TOLLGATE_VERSION, description: "Portkey Admin API compatible. Errors: { status: 'failure', message }." },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: { Failure: { type: 'object', required: ['status', 'message'], properties: { status: { const: 'failure' }, message: { type: 'string' } } } },
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'x-portkey-api-key' },
        session: { type: 'apiKey', in: 'cookie', name: 'tollgate_session' },
        platformAdmin: { type: 'http', scheme: 'bearer', description: 'TOLLGATE_PLATFORM_ADMIN_KEY' },
        dataPlane: { type: 'http', scheme: 'bearer', description: 'data-plane credential' },
      },
    },
  };
  return built;
}
