import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HttpProblem } from '../../core/errors.js';
import { hashSecret } from '../../core/secrets.js';
import type { GatewayConfig } from '../../core/config-schema.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import { readBody, unauthorized } from '../http/respond.js';
import type { Endpoint } from '../providers/index.js';
import type { GatewayState } from '../sync/gateway-state.js';
import type { RequestLogger } from '../telemetry/request-log.js';
import type { CustomHostPolicy } from './custom-host.js';
import { cancelOnClose, type CancelSignal } from './cancel.js';
import { run, type Outcome, type RunContext } from './execute.js';
import { forwardableHeaders } from './forward-headers.js';
import { openSecrets } from '../sync/open-secrets.js';
import { cachedPlan, type CacheConfig, type LeafPlan } from './plan.js';
import { reply, type ReplyOutcome } from './reply.js';
import { metadataHeader, providerHeaderOptions, selectConfig, strictHeader } from './select-config.js';
import { callUpstream, type UpstreamPools, type UpstreamResult } from './upstream.js';
import { cacheKey, isCacheable, ResponseCache, type CacheStatus } from '../cache/response-cache.js';
import { CircuitBreakers } from './circuit-breaker.js';
import type { ConditionInput } from './conditions.js';
import type { KeyValueCache } from '../../core/ports.js';
import type { Guardrails } from '../guardrails/index.js';
import type { Limits } from '../limits/index.js';
import { endpointSpec, unsupportedParam, type EndpointSpec, type TransformContext } from '../providers/index.js';

export interface PipelineDeps {
  state(): GatewayState;
  pools: UpstreamPools;
  policy: CustomHostPolicy;
  requestLog: RequestLogger;
  /** The shared cache port (Redis or memory): response cache entries and open circuit breakers. */
  cache?: KeyValueCache;
  /** Guardrails (hooks in the route's config): see docs/guardrails.md. */
  guardrails?: Guardrails;
  /** Rate limits and budgets: see docs/guardrails.md. */
  limits?: Limits;
}

/** Per-deps helpers built once: the response cache and the circuit breakers over the cache port. */
const helpers = new WeakMap<PipelineDeps, { responseCache?: ResponseCache; breakers: CircuitBreakers }>();
function helpersOf(deps: PipelineDeps) {
  let h = helpers.get(deps);
  if (!h) helpers.set(deps, (h = { responseCache: deps.cache ? new ResponseCache(deps.cache) : undefined, breakers: new CircuitBreakers(deps.cache) }));
  return h;
}

/**
 * Generated trace ids keep the UUID v4 shape: a random prefix drawn once per process, then a
 * 48-bit counter in the last group. randomUUID per request cost a CSPRNG refill every 128 ids.
 */
const TRACE_PREFIX = randomUUID().slice(0, 24);
let traceCounter = Math.floor(Math.random() * 2 ** 40);
/** The last 3 hex digits come from a table; the 33 bits above them change every 4096 ids and are formatted then. */
const HEX3 = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));
let traceHigh = -1;
let traceHead = '';
function newTraceId(): string {
  traceCounter = (traceCounter + 1) % 2 ** 48;
  const high = Math.floor(traceCounter / 4096);
  if (high !== traceHigh) {
    traceHigh = high;
    traceHead = TRACE_PREFIX + high.toString(16).padStart(9, '0');
  }
  return traceHead + HEX3[traceCounter & 0xfff];
}

/** sha256 per request is measurable at load: the hash of each recently seen key is kept (bounded). */
const keyHashes = new Map<string, string>();

export function authenticate(state: GatewayState, presented: string | undefined): SyncApiKey {
  if (!presented) throw unauthorized('missing x-portkey-api-key header');
  let hash = keyHashes.get(presented);
  const known = hash !== undefined;
  hash ??= hashSecret(presented);
  const key = state.apiKeysByHash.get(hash);
  // Only keys that exist are remembered, so a flood of made-up keys cannot evict the real ones.
  if (key && !known) {
    if (keyHashes.size >= 1000) keyHashes.delete(keyHashes.keys().next().value!);
    keyHashes.set(presented, hash);
  }
  if (!key || key.status !== 'active') throw unauthorized('invalid x-portkey-api-key');
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) throw unauthorized('this x-portkey-api-key has expired');
  return key;
}

export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'the request body is not valid JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpProblem(400, 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

const INCLUDE_USAGE_PREFIX = Buffer.from('{"stream_options":{"include_usage":true},');

/** The prompt as text, for token counting when a stream carries no usage. */
function promptText(body: Record<string, unknown> | undefined): string {
  if (!body) return '';
  if (typeof body.prompt === 'string') return body.prompt;
  if (!Array.isArray(body.messages)) return '';
  return (body.messages as { content?: unknown }[])
    .map((m) => (typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? m.content.map((p: { text?: string }) => p?.text ?? '').join(' ') : ''))
    .join('\n');
}

function bearer(value: string | undefined): string | undefined {
  return value?.startsWith('Bearer ') ? value.slice(7).trim() || undefined : undefined;
}

/**
 * Lets an endpoint that is not a plain provider call (e.g. `/v1/prompts/:id/completions`) supply the
 * request: after authentication, `prepare` turns the caller's JSON body into the body to send and may
 * name the route (else the headers choose it, as usual) and what the metrics record.
 */
export interface InferenceHook {
  /** The metric record's `endpoint` (default: derived from the path). */
  endpointName?: string;
  prepare(ctx: { state: GatewayState; apiKey: SyncApiKey; body: Record<string, unknown> }): {
    body: Record<string, unknown>;
    config?: GatewayConfig;
    promptId?: string;
    promptVersion?: number;
  };
}

/** `x-portkey-request-timeout` (ms): Portkey gives it precedence over every target's request_timeout. */
export function requestTimeoutHeader(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['x-portkey-request-timeout'];
  if (value === undefined || value === '') return undefined;
  const ms = Number(Array.isArray(value) ? value[0] : value);
  if (!Number.isFinite(ms) || ms <= 0) throw new HttpProblem(400, 'x-portkey-request-timeout must be a positive number of milliseconds');
  return Math.ceil(ms);
}

/** What response and stream transforms see of a call; promptText is a method, not a closure per request. */
class CallTransform implements TransformContext {
  constructor(
    readonly model: string,
    readonly traceId: string,
    private readonly body: Record<string, unknown> | undefined,
  ) {}

  promptText(): string {
    return promptText(this.body);
  }
}

const SPEC_RAW = new Set<Endpoint>(['createTranscription', 'createTranslation', 'proxy']);

/**
 * The per-request state of one inference call, and the call's RunContext: `send` is what the
 * strategy runs per target. A class rather than closures, so a request allocates one object
 * instead of a closure per step.
 */
class InferenceCall implements RunContext {
  readonly random = Math.random;
  readonly breakers: CircuitBreakers;
  /** `send` bound to this call; a second argument replaces the body for that leaf (a nested target's redaction). */
  readonly sendToLeaf: (leaf: LeafPlan, body?: Record<string, unknown>) => Promise<UpstreamResult>;
  cacheStatus: CacheStatus = 'DISABLED';
  cacheWrite: { leaf: LeafPlan; key: string; cfg: CacheConfig } | undefined = undefined;
  private conditionInput: ConditionInput | undefined = undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly endpoint: Endpoint,
    private readonly deps: PipelineDeps,
    private readonly state: GatewayState,
    private readonly apiKey: SyncApiKey,
    private readonly raw: Buffer | undefined,
    readonly body: Record<string, unknown> | undefined,
    private readonly rawBody: boolean,
    private readonly responseCache: ResponseCache | undefined,
    breakers: CircuitBreakers,
    private readonly signal: CancelSignal,
    /** x-portkey-request-timeout, which replaces every target's request_timeout. */
    readonly timeoutMs: number | undefined,
  ) {
    this.breakers = breakers;
    this.sendToLeaf = this.send.bind(this);
  }

  input(): ConditionInput {
    return (this.conditionInput ??= { metadata: metadataHeader(this.req.headers), params: this.body ?? {} });
  }

  /** The body to send to this leaf: the caller's bytes unless the provider or config needs another. */
  private payloadFor(
    leaf: LeafPlan,
    spec: EndpointSpec,
    body: Record<string, unknown> | undefined,
  ): { payload: string | Buffer | undefined; merged: Record<string, unknown> | undefined } | UpstreamResult {
    const raw = body === this.body ? this.raw : Buffer.from(JSON.stringify(body));
    if (!body) return { payload: raw, merged: body };
    let payload: string | Buffer | undefined = raw;
    let merged = leaf.overrideParams ? { ...body, ...leaf.overrideParams } : body;
    if (spec.supportedParams) {
      for (const field in merged) {
        if (spec.supportedParams.has(field)) continue;
        if (leaf.strict) return { kind: 'rejected', status: 400, message: unsupportedParam(leaf.provider.id, field), param: field };
        if (merged === body) merged = { ...body };
        delete merged[field];
      }
    }
    let askUsage = body.stream === true && spec.streamUsage === 'ask' && (merged.stream_options as { include_usage?: boolean } | undefined)?.include_usage !== true;
    if (askUsage && merged === body && !spec.transformRequest && merged.stream_options === undefined && raw && raw[0] === 0x7b /* { */) {
      // Usage always comes in the final chunk: ask the provider for it, splicing the field into
      // the caller's bytes instead of re-serialising the whole body.
      payload = Buffer.concat([INCLUDE_USAGE_PREFIX, raw.subarray(1)]);
      askUsage = false;
    } else if (askUsage) {
      merged = { ...merged, stream_options: { ...(merged.stream_options as object | undefined), include_usage: true } };
    }
    // Only now is the body re-serialised; the common pass-through path forwards the caller's bytes.
    if (merged !== body || spec.transformRequest) payload = JSON.stringify(spec.transformRequest ? spec.transformRequest(merged, leaf.target) : merged);
    return { payload, merged };
  }

  /**
   * Sends the request to one leaf. Not async: the common leaf (no response cache, no request
   * signing) goes straight to callUpstream, without an extra promise hop per request.
   */
  send(leaf: LeafPlan, bodyForLeaf?: Record<string, unknown>): Promise<UpstreamResult> {
    const body = bodyForLeaf ?? this.body;
    const spec = endpointSpec(leaf.provider, this.endpoint)!;
    const method = this.rawBody && this.endpoint === 'proxy' ? (this.req.method ?? 'GET') : spec.method === '*' ? 'POST' : spec.method;
    try {
      const prepared = this.payloadFor(leaf, spec, body);
      if ('kind' in prepared) return Promise.resolve(prepared);
      const path = this.pathFor(leaf, spec, body);
      if ((this.responseCache && isCacheable(leaf.cache)) || leaf.provider.signRequest) return this.sendChecked(leaf, method, path, prepared.payload, prepared.merged);
      const headers = this.upstreamHeaders(prepared.payload);
      // A leaf's auth headers depend only on its target, so they are built once per (cached) plan.
      const auth = (leaf.authHeaders ??= leaf.provider.authHeaders(leaf.target));
      for (const name in auth) headers[name] = auth[name];
      return this.call(leaf, method, path, headers, prepared.payload);
    } catch (err) {
      return this.refused(err, leaf);
    }
  }

  /** The slower leaf: a response cache to consult first, or a provider that signs each request (SigV4, OAuth). */
  private async sendChecked(leaf: LeafPlan, method: string, path: string, payload: string | Buffer | undefined, merged: Record<string, unknown> | undefined): Promise<UpstreamResult> {
    const { req } = this;
    let headers: Record<string, string>;
    try {
      if (this.responseCache && isCacheable(leaf.cache)) {
        const namespace = req.headers['x-portkey-cache-namespace'] as string | undefined;
        const key = cacheKey({ namespace, path: this.rawBody ? '' : path, leaf, organisationId: this.state.organisationId, workspaceId: this.apiKey.workspace_id, body: merged ?? null });
        this.cacheWrite = { leaf, key, cfg: leaf.cache };
        if (req.headers['x-portkey-cache-force-refresh'] === 'true') this.cacheStatus = 'REFRESH';
        else {
          const hit = this.rawBody ? undefined : await this.responseCache.get(key);
          if (hit) {
            this.cacheStatus = 'HIT';
            return { kind: 'cached', status: hit.status, contentType: hit.contentType, body: hit.body };
          }
          this.cacheStatus = 'MISS';
        }
      }
      headers = this.upstreamHeaders(payload);
      if (!payload?.length) payload = undefined;
      const auth = leaf.provider.signRequest
        ? await leaf.provider.signRequest({ method, url: leaf.target.baseUrl + path, headers, body: payload }, leaf.target)
        : (leaf.authHeaders ??= leaf.provider.authHeaders(leaf.target));
      for (const name in auth) headers[name] = auth[name];
    } catch (err) {
      return this.refused(err, leaf);
    }
    return this.call(leaf, method, path, headers, payload);
  }

  private pathFor(leaf: LeafPlan, spec: EndpointSpec, body: Record<string, unknown> | undefined): string {
    if (typeof spec.path === 'string') return spec.path;
    return spec.path({
      model: String((leaf.overrideParams?.model as string | undefined) ?? body?.model ?? ''),
      stream: body?.stream === true,
      target: leaf.target,
      // The passthrough forwards the caller's path below /v1 (query included).
      requestPath: this.endpoint === 'proxy' ? (this.req.url ?? '/').replace(/^\/v1(?=\/|$|\?)/, '') : '',
    });
  }

  /** The caller's forwardable headers plus the body's content-type. */
  private upstreamHeaders(payload: string | Buffer | undefined): Record<string, string> {
    const headers = forwardableHeaders(this.req.headers);
    if (payload?.length) headers['content-type'] = this.rawBody ? String(this.req.headers['content-type'] ?? 'application/octet-stream') : 'application/json';
    return headers;
  }

  private call(leaf: LeafPlan, method: string, path: string, headers: Record<string, string>, payload: string | Buffer | undefined): Promise<UpstreamResult> {
    return callUpstream(this.deps.pools, {
      baseUrl: leaf.target.baseUrl,
      path,
      method,
      headers,
      body: payload?.length ? payload : undefined,
      timeoutMs: this.timeoutMs ?? leaf.requestTimeoutMs,
      signal: this.signal,
    });
  }

  /** A request the leaf cannot take is that leaf's 4xx answer; a gateway fault (5xx) stays an error. */
  private refused(err: unknown, leaf: LeafPlan): Promise<UpstreamResult> {
    if (err instanceof HttpProblem && err.status < 500) return Promise.resolve({ kind: 'rejected', status: err.status, message: err.message });
    if (err instanceof HttpProblem) return Promise.reject(err);
    // A body the translation cannot read (e.g. `messages: [null]`) is the caller's fault: 400, not 500.
    return Promise.resolve({ kind: 'rejected', status: 400, message: `the request body does not fit ${leaf.provider.id}'s format: ${(err as Error).message}` });
  }
}

/**
 * One inference call: authenticate against the synced state, resolve the route, run the strategy,
 * relay the answer. Reads only in-memory state; never the control plane.
 */
export async function handleInference(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, deps: PipelineDeps, hook?: InferenceHook): Promise<void> {
  const startedAt = Date.now();
  const incomingTrace = req.headers['x-portkey-trace-id'];
  const traceId = typeof incomingTrace === 'string' && incomingTrace ? incomingTrace : newTraceId();
  const headers: OutgoingHttpHeaders = { 'x-portkey-trace-id': traceId };
  const state = deps.state();
  const apiKey = authenticate(state, req.headers['x-portkey-api-key'] as string | undefined);
  const timeoutMs = requestTimeoutHeader(req.headers);

  const rawBody = SPEC_RAW.has(endpoint);
  let raw = req.method !== 'GET' && req.method !== 'HEAD' ? await readBody(req) : undefined;
  let body = raw && !rawBody ? parseJsonObject(raw) : undefined;
  const prepared = hook?.prepare({ state, apiKey, body: body ?? {} });
  if (prepared) {
    body = prepared.body;
    raw = Buffer.from(JSON.stringify(body));
  }
  const selected = prepared?.config ? { config: prepared.config, fromConfig: false } : selectConfig(req.headers, state, apiKey);
  // Provider keys are decrypted on first use (docs/sync.md); already open: no promise, no await.
  const opening = openSecrets(state, selected.config, apiKey.workspace_id);
  if (opening) await opening;
  const plan = cachedPlan(selected.config, {
    state,
    workspaceId: apiKey.workspace_id,
    callerProviderKey: bearer(req.headers.authorization),
    endpoint,
    policy: deps.policy,
    headerOptions: providerHeaderOptions(req.headers),
    strict: strictHeader(req.headers),
  });
  // Routes with no limits and no hooks (the common case) get undefined back synchronously: no promise, no await.
  const stageArgs = { res, state, apiKey, config: selected.config, body, endpoint, headers: req.headers };
  const admitting = deps.limits?.admit(stageArgs);
  const admission = admitting && (await admitting);
  const guarding = deps.guardrails?.beforeRequest(stageArgs);
  const guard = guarding && (await guarding);
  if (guard?.body) {
    body = guard.body; // redacted (or replaced by a webhook): forward this one
    raw = Buffer.from(JSON.stringify(body));
  }

  // Cancelled by the server's one 'close' listener when the caller leaves before the answer is sent.
  const upstreamAbort = cancelOnClose(res);
  const { responseCache, breakers } = helpersOf(deps);
  const call = new InferenceCall(req, endpoint, deps, state, apiKey, raw, body, rawBody, responseCache, breakers, upstreamAbort, timeoutMs);

  let outcome: Outcome;
  const upstreamStartedAt = Date.now();
  const logging = deps.requestLog.enabled;
  if (logging) deps.requestLog.observe(res);
  try {
    const limited = admission ? admission.wrap(call.sendToLeaf) : call.sendToLeaf;
    // Hooks on nested targets run per leaf as the strategy reaches it (docs/guardrails.md).
    outcome = await run(plan, guard ? guard.wrap(limited) : limited, call);
  } catch (err) {
    if (upstreamAbort.aborted) return; // the caller left before any answer: nothing to send
    throw err;
  }
  const { leaf, retries, result } = outcome;
  const { cacheWrite, cacheStatus } = call;
  headers['x-portkey-provider'] = leaf.provider.id;
  headers['x-portkey-retry-attempt-count'] = String(retries);
  const optionIndexSent = selected.fromConfig ? leaf.path : undefined;
  if (selected.fromConfig) headers['x-portkey-last-used-option-index'] = optionIndexSent;
  const cacheStatusSent = cacheWrite?.leaf === leaf || cacheStatus === 'DISABLED' ? cacheStatus : 'DISABLED';
  headers['x-portkey-cache-status'] = cacheStatusSent;

  const model = String((leaf.overrideParams?.model as string | undefined) ?? body?.model ?? '');
  const spec = endpointSpec(leaf.provider, endpoint)!;
  const stream = body?.stream === true;
  const write = cacheWrite?.leaf === leaf && result.kind === 'response' && responseCache ? cacheWrite : undefined;
  let replied: ReplyOutcome | undefined;
  try {
    replied = await (guard?.reply ?? reply)(res, result, {
      provider: leaf.provider,
      spec,
      transform: new CallTransform(model, traceId, body),
      headers,
      idleTimeoutMs: timeoutMs ?? leaf.requestTimeoutMs,
      ensureUsage: stream && (endpoint === 'chatComplete' || endpoint === 'complete') && !spec.createStreamTransformer,
      capture: write ? (contentType, text) => responseCache!.set(write.key, write.cfg, result.status, contentType, text) : undefined,
    });
  } finally {
    void admission?.settle({ status: replied?.status ?? result.status, provider: leaf.provider.id, model, leafPath: leaf.path });
    if (logging) deps.requestLog.record({
      traceId,
      organisationId: state.organisationId,
      workspaceId: apiKey.workspace_id,
      apiKeyId: apiKey.id,
      method: req.method ?? 'POST',
      path: req.url ?? '',
      status: replied?.status ?? result.status,
      provider: leaf.provider.id,
      model,
      stream,
      retries,
      lastUsedOptionIndex: leaf.path,
      startedAt,
      durationMs: Date.now() - startedAt,
      request: body,
      requestBytes: raw?.length ?? 0,
      headers: req.headers,
      res,
      cacheStatus: cacheStatusSent,
      optionIndexSent,
      config: selected.config,
      upstreamStartedAt,
      secrets: [leaf.target.apiKey],
      endpoint: hook?.endpointName,
      promptId: prepared?.promptId,
      promptVersion: prepared?.promptVersion,
      routeFromEndpoint: prepared?.config !== undefined,
    });
  }
}
