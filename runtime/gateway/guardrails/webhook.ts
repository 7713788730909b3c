import { CheckParamError, type CheckInput, type CheckOutcome } from '../../core/guardrail-checks/index.js';
import { checkCustomHost, type CustomHostPolicy } from '../pipeline/custom-host.js';

/**
 * `default.webhook`: POSTs the request (and response, after the call) to an external endpoint that
 * answers `{ verdict: boolean, data?, transformedData?: { request?: { json }, response?: { json } } }`.
 * Parameters: `webhookURL`, `headers`, `timeout` (ms, default 3000), `failOnError` (true: an error or
 * timeout fails the check, i.e. fail closed; default false: fail open, Portkey's default).
 * The URL is held to the gateway's custom_host policy (loopback only in dev mode; else the allowlist).
 */
export interface WebhookOutcome extends CheckOutcome {
  replaceJson?: unknown;
}

const DEFAULT_TIMEOUT_MS = 3000;

export async function webhookCheck(input: CheckInput, params: Record<string, unknown>, policy?: CustomHostPolicy): Promise<WebhookOutcome> {
  const url = params.webhookURL ?? params.webhookUrl ?? params.url;
  if (typeof url !== 'string' || !url) throw new CheckParamError('parameter "webhookURL" must be a URL');
  if (policy) {
    try {
      checkCustomHost(url, policy);
    } catch (err) {
      throw new CheckParamError(`webhookURL refused: ${(err as Error).message.replace(/custom_host/g, 'webhook host')}`);
    }
  }
  const timeout = Number.isInteger(params.timeout) && (params.timeout as number) > 0 ? (params.timeout as number) : DEFAULT_TIMEOUT_MS;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (params.headers && typeof params.headers === 'object') {
    for (const [k, v] of Object.entries(params.headers as Record<string, unknown>)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
  }
  const eventType = input.phase === 'request' ? 'beforeRequestHook' : 'afterRequestHook';
  const payload = {
    eventType,
    ...(input.phase === 'request' ? { request: { json: input.json, text: input.text } } : { response: { json: input.json, text: input.text } }),
    model: input.model ?? null,
    metadata: input.metadata ?? {},
  };
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(payload), signal: AbortSignal.timeout(timeout) }).catch((err: Error) => {
    throw new Error(err.name === 'TimeoutError' ? `webhook timed out after ${timeout} ms` : `webhook unreachable: ${err.message}`);
  });
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`webhook answered ${res.status}`);
  }
  const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!body || typeof body.verdict !== 'boolean') throw new Error('webhook answer has no boolean "verdict"');
  const transformed = body.transformedData as { request?: { json?: unknown }; response?: { json?: unknown } } | undefined;
  const replaceJson = input.phase === 'request' ? transformed?.request?.json : transformed?.response?.json;
  return {
    verdict: body.verdict,
    explanation: body.verdict ? 'the webhook passed the check' : 'the webhook failed the check',
    data: body.data && typeof body.data === 'object' ? (body.data as Record<string, unknown>) : {},
    ...(replaceJson && typeof replaceJson === 'object' ? { replaceJson } : {}),
  };
}
