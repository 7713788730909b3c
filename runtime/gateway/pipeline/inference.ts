import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HttpProblem } from '../../core/errors.js';
import { hashSecret } from '../../core/secrets.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import { readBody, unauthorized } from '../http/respond.js';
import type { Endpoint } from '../providers/index.js';
import type { GatewayState } from '../sync/gateway-state.js';
import type { RequestLogger } from '../telemetry/request-log.js';
import type { CustomHostPolicy } from './custom-host.js';
import { CancelSignal } from './cancel.js';
import { run, type Outcome } from './execute.js';
import { forwardableHeaders } from './forward-headers.js';
import { buildPlan, type LeafPlan } from './plan.js';
import { reply } from './reply.js';
import { selectConfig } from './select-config.js';
import { callUpstream, type UpstreamPools } from './upstream.js';

export interface PipelineDeps {
  state(): GatewayState;
  pools: UpstreamPools;
  policy: CustomHostPolicy;
  requestLog: RequestLogger;
}

function authenticate(state: GatewayState, presented: string | undefined): SyncApiKey {
  if (!presented) throw unauthorized('missing x-portkey-api-key header');
  const key = state.apiKeysByHash.get(hashSecret(presented));
  if (!key || key.status !== 'active') throw unauthorized('invalid x-portkey-api-key');
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) throw unauthorized('this x-portkey-api-key has expired');
  return key;
}

function parseJsonObject(raw: Buffer): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'the request body is not valid JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpProblem(400, 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

function bearer(value: string | undefined): string | undefined {
  return value?.startsWith('Bearer ') ? value.slice(7).trim() || undefined : undefined;
}

/**
 * One inference call: authenticate against the synced state, resolve the route, run the strategy,
 * relay the answer. Reads only in-memory state; never the control plane.
 */
export async function handleInference(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, deps: PipelineDeps): Promise<void> {
  const startedAt = Date.now();
  const incomingTrace = req.headers['x-portkey-trace-id'];
  const traceId = typeof incomingTrace === 'string' && incomingTrace ? incomingTrace : randomUUID();
  const headers: OutgoingHttpHeaders = { 'x-portkey-trace-id': traceId };
  const state = deps.state();
  const apiKey = authenticate(state, req.headers['x-portkey-api-key'] as string | undefined);

  const raw = req.method === 'POST' ? await readBody(req) : undefined;
  const body = raw ? parseJsonObject(raw) : undefined;
  const selected = selectConfig(req.headers, state, apiKey);
  const plan = buildPlan(selected.config, {
    state,
    workspaceId: apiKey.workspace_id,
    callerProviderKey: bearer(req.headers.authorization),
    endpoint,
    policy: deps.policy,
  });

  const forwarded = forwardableHeaders(req.headers);
  const upstreamAbort = new CancelSignal();
  const onClose = () => {
    if (!res.writableFinished) upstreamAbort.abort();
  };
  res.once('close', onClose);

  const send = (leaf: LeafPlan) => {
    const spec = leaf.provider.endpoints[endpoint]!;
    let payload: string | Buffer | undefined = raw;
    if (body && (leaf.overrideParams || spec.transformRequest)) {
      // Only now is the body re-serialised; the common pass-through path forwards the caller's bytes.
      const merged = leaf.overrideParams ? { ...body, ...leaf.overrideParams } : body;
      payload = JSON.stringify(spec.transformRequest ? spec.transformRequest(merged, leaf.target) : merged);
    }
    return callUpstream(deps.pools, {
      baseUrl: leaf.target.baseUrl,
      path: spec.path,
      method: spec.method,
      headers: { ...forwarded, ...(payload ? { 'content-type': 'application/json' } : {}), ...leaf.provider.authHeaders(leaf.target) },
      body: payload,
      timeoutMs: leaf.requestTimeoutMs,
      signal: upstreamAbort,
    });
  };

  let outcome: Outcome;
  const upstreamStartedAt = Date.now();
  deps.requestLog.observe(res);
  try {
    outcome = await run(plan, send);
  } catch (err) {
    if (upstreamAbort.aborted) return; // the caller left before any answer: nothing to send
    throw err;
  }
  const { leaf, retries, result } = outcome;
  headers['x-portkey-provider'] = leaf.provider.id;
  headers['x-portkey-retry-attempt-count'] = String(retries);
  if (selected.fromConfig) headers['x-portkey-last-used-option-index'] = leaf.path;

  const model = String((leaf.overrideParams?.model as string | undefined) ?? body?.model ?? '');
  const spec = leaf.provider.endpoints[endpoint]!;
  try {
    await reply(res, result, { provider: leaf.provider, spec, transform: { model, traceId }, headers });
  } finally {
    res.off('close', onClose);
    deps.requestLog.record({
      traceId,
      organisationId: state.organisationId,
      workspaceId: apiKey.workspace_id,
      apiKeyId: apiKey.id,
      method: req.method ?? 'POST',
      path: req.url ?? '',
      status: result.status,
      provider: leaf.provider.id,
      model,
      stream: body?.stream === true,
      retries,
      lastUsedOptionIndex: leaf.path,
      startedAt,
      durationMs: Date.now() - startedAt,
      request: body,
      headers: req.headers,
      res,
      config: selected.config,
      upstreamStartedAt,
      secrets: [leaf.target.apiKey],
    });
  }
}
