import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpProblem, openAIError } from '../core/errors.js';
import type { Keyring } from '../core/keyring.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { KeyValueCache, LogStore, SnapshotStore } from '../core/ports.js';
import { TOLLGATE_VERSION } from '../core/version.js';
import { sendJson } from './http/respond.js';
import { handleInference, type PipelineDeps } from './pipeline/inference.js';
import { handlePromptCompletion, handlePromptRender, PROMPT_PATH } from './endpoints/prompts.js';
import { createGuardrails, type GuardrailOptions } from './guardrails/index.js';
import { guardrailMetrics } from './guardrails/metrics.js';
import { budgetClaims, createLimits, reconciledUsage, type LimitsOptions } from './limits/index.js';
import { UpstreamPools } from './pipeline/upstream.js';
import type { Endpoint } from './providers/index.js';
import { healthReport, maxSyncAgeFromEnv, syncMetrics } from './sync/health.js';
import { SyncClient, type SyncStatus } from './sync/sync-client.js';
import { TappedResponse } from './telemetry/response-tap.js';
import type { RequestTracer } from './tracing/tracer.js';
import { createTelemetry, telemetryPrometheus, type TelemetryOptions, type TelemetryStats } from './telemetry/request-log.js';

export interface GatewayOptions {
  host?: string;
  port: number;
  controlPlaneUrl: string;
  dataPlaneToken: string;
  keyring: Keyring;
  /** Owned by the caller (the gateway does not close it): holds the persisted snapshot. */
  cache: KeyValueCache;
  /** Owned by the caller; masked request logs are written to it off the response path. */
  logStore?: LogStore;
  /** Heartbeat; default 30 000 ms. */
  syncIntervalMs?: number;
  /** Lets custom_host point at loopback (and anywhere): for `tollgate dev` and tests only. */
  devMode?: boolean;
  customHostAllowlist?: string[];
  logger?: Logger;
  /** How long close() lets in-flight requests finish before cutting them; default 30 000 ms. */
  drainTimeoutMs?: number;
  /** Metrics, logs (customer or control-plane mode), spool: see docs/observability.md. */
  telemetry?: TelemetryOptions;
  /** Guardrail definitions (besides synced ones) for the hooks a config names: docs/guardrails.md. */
  guardrails?: GuardrailOptions;
  /** Rate limits and budgets; pass `limiter: redisRateLimiter(...)` and `budgets: redisBudgetStore(...)` to share them across tasks. */
  limits?: LimitsOptions;
  /** Where the last good snapshot is persisted (default: `cache`); e.g. fileSnapshotStore when there is no Redis. */
  snapshotStore?: SnapshotStore;
  /** Reported to the control plane's data-plane registry; default TOLLGATE_INSTANCE_ID or host-pid-random. */
  instanceId?: string;
  /** /v1/health answers 503 when the state is older than this (default TOLLGATE_MAX_SYNC_AGE; unset: always 200). */
  maxSyncAgeSeconds?: number;
  /** The long-poll push channel (default on); the heartbeat runs regardless. */
  push?: boolean;
  /** Exports one OpenTelemetry span per request (createRequestTracer); default: no trace export. */
  tracing?: RequestTracer;
  /** What GET /metrics answers instead of this process's own metrics (a cluster worker asks the primary for every worker's). */
  metrics?: () => Promise<string>;
}

export interface RunningGateway {
  url: string;
  syncNow(): Promise<void>;
  /** Settles when the background decryption of the synced provider keys is done (benchmarks, tests). */
  secretsWarm(): Promise<number>;
  status(): SyncStatus;
  /** Telemetry counters: queued, spooled, sent and dropped metric records and logs. */
  telemetry(): TelemetryStats;
  /** This process's Prometheus text (what GET /metrics answers without the `metrics` option). */
  metricsText(): string;
  /** Stops accepting, lets in-flight requests finish, then releases pools and the sync client. */
  close(): Promise<void>;
}

/** Inference routes by method, then path: no `${method} ${path}` string per request. */
const POST_ROUTES = new Map<string, Endpoint>([
  ['/v1/chat/completions', 'chatComplete'],
  ['/v1/completions', 'complete'],
  ['/v1/embeddings', 'embed'],
  ['/v1/images/generations', 'imageGenerate'],
  ['/v1/audio/speech', 'createSpeech'],
  ['/v1/audio/transcriptions', 'createTranscription'],
  ['/v1/audio/translations', 'createTranslation'],
  ['/v1/responses', 'responses'],
  ['/v1/messages', 'messages'],
]);
const GET_ROUTES = new Map<string, Endpoint>([['/v1/models', 'listModels']]);

const ROUTE_HEADERS = ['x-portkey-config', 'x-portkey-virtual-key', 'x-portkey-provider'];

function sendProblem(res: ServerResponse, err: unknown, logger: Logger): void {
  const trace = res.getHeader('x-portkey-trace-id');
  const headers = trace ? { 'x-portkey-trace-id': trace } : {};
  if (err instanceof HttpProblem) {
    // Validation errors keep Portkey's `{ status: 'failure', message }` and also carry OpenAI's
    // `error` object: the openai SDK reads only `error.message` and would otherwise report "(no body)".
    const body = (err.body as { status?: string }).status === 'failure' ? { ...(err.body as object), error: openAIError(err.message).error } : err.body;
    return sendJson(res, err.status, body, headers);
  }
  logger.error('gateway error', { reason: (err as Error)?.message });
  sendJson(res, 500, openAIError('internal gateway error', 'api_error', 'gateway_error'), headers);
}

function sendMetrics(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  res.end(text);
}

export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const logger = opts.logger ?? silentLogger;
  const reconciled = opts.limits?.reconciled ?? reconciledUsage(opts.dataPlaneToken);
  // Budget events are claimed on a pull asked for at once (sync is assigned before any request runs).
  const claims = opts.limits?.claims ?? budgetClaims({ requestSync: () => void sync.syncNow() });
  const sync: SyncClient = new SyncClient({
    onAnswer: (headers) => {
      reconciled.accept(headers);
      claims.accept(headers);
    },
    pullHeaders: () => claims.pullHeaders(),
    controlPlaneUrl: opts.controlPlaneUrl,
    dataPlaneToken: opts.dataPlaneToken,
    keyring: opts.keyring,
    cache: opts.cache,
    logger,
    snapshotStore: opts.snapshotStore,
    instanceId: opts.instanceId,
    push: opts.push,
  });
  const maxSyncAge = opts.maxSyncAgeSeconds ?? maxSyncAgeFromEnv();
  // Serve from the last persisted snapshot first; the control plane may be down right now.
  await sync.restoreFromCache();
  await sync.syncNow();
  sync.start(opts.syncIntervalMs ?? 30_000);

  const pools = new UpstreamPools();
  const requestLog = createTelemetry({
    controlPlaneUrl: opts.controlPlaneUrl,
    dataPlaneToken: opts.dataPlaneToken,
    keyring: opts.keyring,
    logStore: opts.logStore,
    state: () => sync.state,
    logger,
    options: opts.telemetry,
  });
  const deps: PipelineDeps = {
    state: () => sync.state,
    pools,
    policy: { devMode: opts.devMode ?? false, allowlist: opts.customHostAllowlist ?? [] },
    requestLog,
    cache: opts.cache,
    guardrails: createGuardrails({ policy: { devMode: opts.devMode ?? false, allowlist: opts.customHostAllowlist ?? [] }, logger, ...opts.guardrails }),
    limits: createLimits({ logger, ...opts.limits, reconciled, claims }),
  };
  const metricsText = () => syncMetrics(sync) + telemetryPrometheus() + guardrailMetrics(deps.guardrails?.stats(), deps.limits?.stats());
  let draining = false;
  let inFlight = 0;
  let onIdle: (() => void) | undefined;

  // One listener for every response ('close' fires once per response), not a closure per request.
  const onResponseClose = () => {
    if (--inFlight === 0) onIdle?.();
  };
  const tracer = opts.tracing;
  function onTracedClose(this: ServerResponse) {
    tracer!.finished(this.req, this);
  }
  // A request that failed before the pipeline recorded it still leaves a metric record (issue 6).
  const failed = (req: IncomingMessage, res: ServerResponse, err: unknown) => {
    sendProblem(res, err, logger);
    requestLog.rejected(req, res, res.statusCode);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.setHeader('connection', 'close');
    // Our own in-flight count decides when a drain is done; Node's idle-connection tracking can
    // keep a keep-alive socket "busy" after its response has finished.
    inFlight++;
    res.on('close', onResponseClose);
    if (tracer) {
      tracer.started(res);
      res.on('close', onTracedClose);
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const endpoint = req.method === 'POST' ? POST_ROUTES.get(path) : req.method === 'GET' ? GET_ROUTES.get(path) : undefined;
    if (endpoint) {
      if (endpoint === 'listModels' && !ROUTE_HEADERS.some((h) => req.headers[h])) {
        // No provider named: nothing to list, but an SDK's models.list() should still parse.
        return sendJson(res, 200, { object: 'list', data: [] });
      }
      handleInference(req, res, endpoint, deps).catch((err) => failed(req, res, err));
      return;
    }
    const key = `${req.method} ${path}`;
    if (req.method === 'POST' && key.startsWith('POST /v1/prompts/')) {
      const m = PROMPT_PATH.exec(key.slice(5));
      if (m) {
        const handler = m[2] === 'render' ? handlePromptRender : handlePromptCompletion;
        // A render calls no model, so only a failed completion is a request to record.
        return void handler(req, res, m[1], deps).catch((err) => (m[2] === 'render' ? sendProblem(res, err, logger) : failed(req, res, err)));
      }
    }
    if (key.startsWith('GET /v1/logs/')) return void requestLog.serveLog(req, res, key.slice(13)).catch((err) => sendProblem(res, err, logger));
    if (key === 'GET /v1/telemetry') return sendJson(res, 200, requestLog.stats());
    if (key === 'GET /v1/health') {
      const health = healthReport(sync, maxSyncAge);
      return sendJson(res, health.statusCode, health.body);
    }
    if (key === 'GET /metrics') {
      if (!opts.metrics) return sendMetrics(res, metricsText());
      return void opts.metrics().then(
        (text) => sendMetrics(res, text),
        (err) => sendProblem(res, new HttpProblem(503, `metrics unavailable: ${(err as Error).message}`), logger),
      );
    }
    if (url.startsWith('/v1/') && ROUTE_HEADERS.some((h) => req.headers[h])) {
      // The catch-all passthrough: any other /v1/* call goes to the selected provider as is.
      return void handleInference(req, res, 'proxy', deps).catch((err) => failed(req, res, err));
    }
    sendJson(res, 404, openAIError(`no route for ${req.method} ${url.split('?')[0]}`, 'invalid_request_error', 'not_found'));
  };

  // TappedResponse: telemetry and token limits see what a response sends without wrapping its methods per request.
  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000, ServerResponse: TappedResponse }, onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  requestLog.setPublicUrl(url);
  logger.info('gateway listening', { url, syncedVersion: sync.state.version });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Once nothing is in flight, every remaining socket is an idle keep-alive one: cut them all.
      const drained = new Promise<void>((resolve) => {
        onIdle = resolve;
        if (inFlight === 0) resolve();
      });
      const deadline = setTimeout(() => onIdle?.(), opts.drainTimeoutMs ?? 30_000);
      await drained;
      clearTimeout(deadline);
      server.closeAllConnections();
      await closed;
      await Promise.all([sync.close(), pools.close(), requestLog.close(), deps.limits?.close(), tracer?.shutdown()]);
    })();
    return closing;
  };

  return { url, syncNow: () => sync.syncNow(), secretsWarm: () => sync.secretsWarm(), status: () => sync.getStatus(), telemetry: () => requestLog.stats(), metricsText, close };
}
