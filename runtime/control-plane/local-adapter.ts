import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { portkeyFailure } from '../core/errors.js';
import type { ControlPlaneContext } from './context.js';
import { handler as apiKeys } from './handlers/api-keys.js';
import { handler as auditLogs } from './handlers/audit-logs.js';
import { handler as prompts } from './handlers/prompts.js';
import { handler as catalogue } from './handlers/catalogue.js';
import { handler as auth } from './handlers/auth.js';
import { handler as openapi } from './handlers/openapi.js';
import { handler as configs } from './handlers/configs.js';
import { handler as dataPlanes } from './handlers/data-planes.js';
import { handler as platform } from './handlers/platform.js';
import { handler as sync } from './handlers/sync.js';
import { handler as users } from './handlers/users.js';
import { handler as virtualKeys } from './handlers/virtual-keys.js';
import { handler as workspaces } from './handlers/workspaces.js';
import type { ControlPlaneLambdaContext } from './http/handler.js';
import { matchRoute, pathExists } from './route-match.js';
import type { ControlPlaneHandlerName } from './routes.js';
import { serveUi } from './ui-static.js';
import { handler as analytics } from './handlers/analytics.js';
import { handler as feedback } from './handlers/feedback.js';
import { handler as ingest } from './handlers/ingest.js';
import { handler as logs } from './handlers/logs.js';

type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

/** The same handler objects Lambda runs, one per handler name in routes.ts. */
const handlers: Record<ControlPlaneHandlerName, LambdaHandler> = {
  workspaces,
  'virtual-keys': virtualKeys,
  configs,
  'api-keys': apiKeys,
  sync,
  'data-planes': dataPlanes,
  ingest,
  analytics,
  logs,
  feedback,
  users,
  platform,
  'audit-logs': auditLogs,
  prompts,
  catalogue,
  auth,
  openapi,
};

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface LocalAdapterOptions {
  host: string;
  port: number;
  context: ControlPlaneContext;
  maxBodyBytes?: number;
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function isTextual(contentType: string | undefined): boolean {
  return !contentType || /json|text|x-www-form-urlencoded/i.test(contentType);
}

/** Builds the API Gateway HTTP API (payload 2.0) event Lambda would receive for this request. */
export function toApiGatewayEvent(req: IncomingMessage, body: Buffer, routeKey: string, pathParameters: Record<string, string>): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  // API Gateway joins repeated query parameters with commas.
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const textual = isTextual(headers['content-type']);
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
    body: body.length ? (textual ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !textual,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: (req.method ?? 'GET').toUpperCase(),
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
  };
}

function lambdaContext(name: string, ctx: ControlPlaneContext): ControlPlaneLambdaContext {
  // No getRemainingTimeInMillis: middy then applies no Lambda timeout locally.
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `tollgate-control-plane-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:tollgate-control-plane-${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: 'local',
    logStreamName: 'local',
    tollgateControlPlane: ctx,
  } as unknown as ControlPlaneLambdaContext;
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(result);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined;
  res.writeHead(result.statusCode ?? 200, headers).end(body);
}

/**
 * A thin Node HTTP server in front of the Lambda handlers, so `tollgate dev` exercises the exact
 * code API Gateway invokes: route matching from routes.ts, payload 2.0 events, structured results.
 */
export async function startLocalAdapter(opts: LocalAdapterOptions): Promise<{ server: Server; port: number }> {
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = createServer(async (req, res) => {
    try {
      const method = (req.method ?? 'GET').toUpperCase();
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      const matched = matchRoute(method, path);
      if (!matched) {
        // The control panel is served from the same origin as the API (never for /v1/*).
        if (await serveUi(req, res)) return;
        req.resume();
        const status = pathExists(path) ? 405 : 404;
        return sendJson(res, status, portkeyFailure(status === 405 ? `${method} is not allowed on ${path}` : `no route for ${method} ${path}`));
      }
      let body: Buffer;
      try {
        body = await readBody(req, limit);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          res.setHeader('connection', 'close');
          return sendJson(res, 413, portkeyFailure(`request body exceeds ${limit} bytes`));
        }
        throw err;
      }
      const event = toApiGatewayEvent(req, body, matched.route.routeKey, matched.pathParameters);
      const result = await handlers[matched.route.handler](event, lambdaContext(matched.route.handler, opts.context));
      writeResult(res, result);
    } catch (err) {
      opts.context.logger.error('local adapter failed', { error: (err as Error)?.name });
      if (!res.headersSent) sendJson(res, 500, portkeyFailure('internal error in the control plane'));
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
