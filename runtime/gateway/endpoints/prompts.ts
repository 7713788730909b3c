import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../../core/config-schema.js';
import { HttpProblem } from '../../core/errors.js';
import type { SyncPrompt, SyncPromptVersion } from '../../core/prompt-contract.js';
import { MissingVariablesError, renderPromptMessages, UnknownPartialError } from '../../core/prompt-render.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import { readBody, sendJson } from '../http/respond.js';
import { authenticate, handleInference, parseJsonObject, type InferenceHook, type PipelineDeps } from '../pipeline/inference.js';
import { routeConfig } from '../pipeline/select-config.js';
import type { GatewayState } from '../sync/gateway-state.js';

/**
 * Portkey's prompt API on the gateway, served from the synced state only (never the control plane):
 * - `POST /v1/prompts/:id/render` → `{ success: true, data: <the request body the prompt makes> }`;
 * - `POST /v1/prompts/:id/completions` → a chat completion (JSON or SSE), through the normal pipeline.
 *
 * `:id` is the prompt's id or slug, optionally `@<version>` or `@<label>` (`@production`, `@staging`,
 * `@latest`, custom labels); without one the `production` label serves. Only labelled versions are
 * synced, so `@<n>` works for a version some label points at. A body `version`/`label` is accepted too
 * (the control plane's render takes them). Body fields other than `variables`, `promptID`, `version`
 * and `label` override the prompt's model parameters (`temperature`, `max_tokens`, `model`, `stream`...).
 */
export const PROMPT_PATH = /^\/v1\/prompts\/([^/]+)\/(render|completions)$/;

const CONTROL_FIELDS = new Set(['variables', 'promptID', 'promptId', 'prompt_id', 'version', 'label', 'messages']);
const LABEL = /^[a-z][a-z0-9_-]{0,39}$/;

export interface PromptRef {
  ref: string;
  version?: number;
  label?: string;
}

/** `pp-x`, `pp-x@3`, `pp-x@production` (the id part is URL-decoded by the caller). */
export function parsePromptRef(raw: string, body: Record<string, unknown> = {}): PromptRef {
  const at = raw.lastIndexOf('@');
  const ref = at > 0 ? raw.slice(0, at) : raw;
  const suffix = at > 0 ? raw.slice(at + 1) : undefined;
  if (suffix !== undefined) {
    if (/^[1-9]\d{0,8}$/.test(suffix)) return { ref, version: Number(suffix) };
    if (LABEL.test(suffix)) return { ref, label: suffix };
    throw new HttpProblem(400, `prompt id: "@${suffix}" is neither a version number nor a label`);
  }
  if (body.version !== undefined) {
    const n = Number(body.version);
    if (!Number.isInteger(n) || n <= 0) throw new HttpProblem(400, 'version: expected a positive integer');
    return { ref, version: n };
  }
  if (body.label !== undefined) {
    if (typeof body.label !== 'string' || !LABEL.test(body.label)) throw new HttpProblem(400, 'label: expected a label such as production, staging or latest');
    return { ref, label: body.label };
  }
  return { ref };
}

/** The prompt and version the caller may use; 404 for another workspace's prompt (its existence is not revealed). */
export function resolvePrompt(state: GatewayState, apiKey: SyncApiKey, sel: PromptRef): { prompt: SyncPrompt; version: SyncPromptVersion } {
  const prompt = state.prompts?.get(sel.ref);
  if (!prompt || (apiKey.workspace_id && prompt.workspace_id !== apiKey.workspace_id)) throw new HttpProblem(404, `prompt "${sel.ref}" not found`);
  const n = sel.version ?? (sel.label ? prompt.labels[sel.label] : (prompt.labels.production ?? prompt.labels.latest));
  if (n === undefined) throw new HttpProblem(404, `prompt "${sel.ref}" has no label "${sel.label ?? 'production'}"`);
  const version = prompt.versions.find((v) => v.version === n);
  if (!version) throw new HttpProblem(404, `prompt "${sel.ref}" version ${n} is not served by this gateway (only labelled versions are synced)`);
  return { prompt, version };
}

/** The chat request the prompt makes: its model parameters, the rendered messages, then the caller's overrides. */
export function promptRequest(state: GatewayState, version: SyncPromptVersion, body: Record<string, unknown>): Record<string, unknown> {
  const variables = body.variables ?? {};
  if (typeof variables !== 'object' || Array.isArray(variables) || variables === null) throw new HttpProblem(400, 'variables: expected an object');
  let messages;
  try {
    messages = renderPromptMessages(version.messages, variables as Record<string, unknown>, state.promptPartials ?? {});
  } catch (err) {
    if (err instanceof MissingVariablesError || err instanceof UnknownPartialError) throw new HttpProblem(400, `variables: ${err.message}`);
    throw err;
  }
  const out: Record<string, unknown> = {};
  if (version.model) out.model = version.model;
  Object.assign(out, version.parameters);
  if (version.tools?.length) out.tools = version.tools;
  if (version.tool_choice !== undefined && version.tool_choice !== null) out.tool_choice = version.tool_choice;
  for (const [k, v] of Object.entries(body)) if (!CONTROL_FIELDS.has(k) && v !== undefined) out[k] = v;
  out.messages = messages;
  return out;
}

/** The route a prompt names: an explicit `x-portkey-config` header wins, then the prompt's virtual key, then its provider. */
function promptRoute(req: IncomingMessage, version: SyncPromptVersion): GatewayConfig | undefined {
  if (req.headers['x-portkey-config']) return undefined;
  const customHost = req.headers['x-portkey-custom-host'] as string | undefined;
  if (version.virtual_key) return routeConfig('virtual_key', version.virtual_key, customHost || undefined);
  if (version.provider) return routeConfig('provider', version.provider, customHost || undefined);
  return undefined;
}

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpProblem(400, 'prompt id: not a valid URL path segment');
  }
}

/** `POST /v1/prompts/:id/render`: authenticated like inference, answered from the synced state. */
export async function handlePromptRender(req: IncomingMessage, res: ServerResponse, rawId: string, deps: PipelineDeps): Promise<void> {
  const incomingTrace = req.headers['x-portkey-trace-id'];
  const traceId = typeof incomingTrace === 'string' && incomingTrace ? incomingTrace : randomUUID();
  res.setHeader('x-portkey-trace-id', traceId);
  const state = deps.state();
  const apiKey = authenticate(state, req.headers['x-portkey-api-key'] as string | undefined);
  const raw = await readBody(req);
  const body = raw.length ? parseJsonObject(raw) : {};
  const { version } = resolvePrompt(state, apiKey, parsePromptRef(decodeId(rawId), body));
  sendJson(res, 200, { success: true, data: promptRequest(state, version, body) }, { 'x-portkey-trace-id': traceId });
}

/** `POST /v1/prompts/:id/completions`: the rendered request runs through `handleInference` as a chat completion. */
export function handlePromptCompletion(req: IncomingMessage, res: ServerResponse, rawId: string, deps: PipelineDeps): Promise<void> {
  const hook: InferenceHook = {
    endpointName: 'promptComplete',
    prepare({ state, apiKey, body }) {
      const { prompt, version } = resolvePrompt(state, apiKey, parsePromptRef(decodeId(rawId), body));
      return { body: promptRequest(state, version, body), config: promptRoute(req, version), promptId: prompt.id, promptVersion: version.version };
    },
  };
  return handleInference(req, res, 'chatComplete', deps, hook);
}
