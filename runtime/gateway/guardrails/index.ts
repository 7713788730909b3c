import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../core/config-schema.js';
import { HttpProblem } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import type { CustomHostPolicy } from '../pipeline/custom-host.js';
import { UPSTREAM_RESPONSE_DROP } from '../pipeline/forward-headers.js';
import { reply, type ReplyContext } from '../pipeline/reply.js';
import type { UpstreamResult } from '../pipeline/upstream.js';
import type { Endpoint } from '../providers/index.js';
import type { GatewayState } from '../sync/gateway-state.js';
import { runPhase, type HookResult, type PhaseInput } from './engine.js';
import { configHooks, hasHooks, type ConfigHooks, type GuardrailLookup, type HookDef, type SyncedGuardrail } from './hooks.js';
import { requestText, responseText, rewriteRequest, rewriteResponse, streamText } from './text.js';

export type { HookResult, CheckResult } from './engine.js';
export type { SyncedGuardrail, HookDef } from './hooks.js';

/**
 * What guardrails did to one request: the telemetry engineer reads it with `guardrailResults(res)`
 * (logs: the whole record; metrics: `verdict`, `denied`, `status`, counts). Async hooks land in the
 * arrays later; `settled` resolves when they have.
 */
export interface GuardrailRecord {
  before_request_hooks: HookResult[];
  after_request_hooks: HookResult[];
  /** false when any sync hook failed. */
  verdict: boolean;
  denied: boolean;
  /** 246 (a hook failed, response passed through) or 446 (denied); undefined when all passed. */
  status?: 246 | 446;
  /** A check rewrote the request or the response (redaction, webhook). */
  transformed: boolean;
  /** Resolves when async hooks (and after-hooks on streams) have finished. */
  settled: Promise<void>;
}

const records = new WeakMap<ServerResponse, GuardrailRecord>();

/** The guardrail record of a request, by its response object (undefined when the route has no hooks). */
export function guardrailResults(res: ServerResponse): GuardrailRecord | undefined {
  return records.get(res);
}

export interface GuardrailOptions {
  /** Guardrail definitions by id/slug, used when the synced state carries none (static config, tests). */
  definitions?: readonly SyncedGuardrail[];
  /** Where synced guardrails are read; default: `state.guardrails` (a Map by id and slug, or an array). */
  lookup?: (state: GatewayState) => ReadonlyMap<string, SyncedGuardrail> | readonly SyncedGuardrail[] | undefined;
  /** Webhook URLs are held to this (the custom_host policy): loopback only in dev mode, else the allowlist. */
  policy?: CustomHostPolicy;
  logger?: Logger;
}

export interface GuardrailStats {
  requests: number;
  checks: number;
  failed_hooks: number;
  denied: number;
  transformed: number;
}

export interface BeforeRequestArgs {
  res: ServerResponse;
  config: GatewayConfig;
  body: Record<string, unknown> | undefined;
  endpoint: Endpoint;
  headers: IncomingHttpHeaders;
  apiKey: SyncApiKey;
  state: GatewayState;
}

/** Same signature as pipeline/reply.ts's `reply` (whatever it returns). */
export type ReplyFn = typeof reply;
type ReplyReturn = Awaited<ReturnType<typeof reply>>;
/** The status a guarded reply ended with, in the shape `reply` returns. */
const outcome = (status: number) => ({ status }) as unknown as ReplyReturn;

export interface GuardedRequest {
  /** The rewritten request body when a check redacted it (or a webhook replaced it); forward this one. */
  body?: Record<string, unknown>;
  record: GuardrailRecord;
  /** Drop-in for pipeline/reply.ts's `reply`: adds hook_results, 246/446, output checks, redaction. */
  reply: ReplyFn;
}

export interface Guardrails {
  /**
   * undefined, synchronously, when the route has no hooks (the fast path: no promise, no await for
   * the caller). Otherwise a promise; it rejects with 446 when a deny hook fails, 400 for a bad hook.
   */
  beforeRequest(args: BeforeRequestArgs): Promise<GuardedRequest | undefined> | undefined;
  stats(): GuardrailStats;
}

const DENY_MESSAGE = 'The guardrail checks defined in the config failed. You can find more information in the `hook_results` object.';
const MAX_STREAM_CAPTURE = 1024 * 1024;
/** Portkey runs hooks on these only. */
const HOOKED_ENDPOINTS = new Set<string>(['chatComplete', 'complete', 'embed', 'messages']);

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v || undefined;
}

function metadataOf(headers: IncomingHttpHeaders, apiKey: SyncApiKey): Record<string, string> {
  const out: Record<string, string> = { ...(apiKey.defaults?.metadata ?? {}) };
  const raw = header(headers, 'x-portkey-metadata');
  if (raw) {
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const [k, v] of Object.entries(parsed)) if (v !== null && v !== undefined) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
      }
    } catch {
      // not JSON: no metadata
    }
  }
  return out;
}

function indexOf(list: ReadonlyMap<string, SyncedGuardrail> | readonly SyncedGuardrail[] | undefined): ReadonlyMap<string, SyncedGuardrail> {
  if (!list) return new Map();
  if (list instanceof Map) return list;
  const map = new Map<string, SyncedGuardrail>();
  for (const g of list as readonly SyncedGuardrail[]) {
    map.set(g.id, g);
    if (g.slug) map.set(g.slug, g);
  }
  return map;
}

export function createGuardrails(opts: GuardrailOptions = {}): Guardrails {
  const logger = opts.logger ?? silentLogger;
  const statics = indexOf(opts.definitions);
  const synced = new WeakMap<object, ReadonlyMap<string, SyncedGuardrail>>();
  const lookupFor = (state: GatewayState, workspaceId: string | null): GuardrailLookup => {
    let index = synced.get(state);
    if (!index) {
      const raw = opts.lookup ? opts.lookup(state) : (state as unknown as { guardrails?: ReadonlyMap<string, SyncedGuardrail> | SyncedGuardrail[] }).guardrails;
      index = indexOf(raw);
      synced.set(state, index);
    }
    const found = index;
    return {
      get(id) {
        const g = found.get(id) ?? statics.get(id);
        if (g && workspaceId && g.workspace_id && g.workspace_id !== workspaceId) return undefined;
        return g;
      },
    };
  };
  // Normalised hooks per (config object, state): a saved config's hooks are parsed once per snapshot.
  const parsed = new WeakMap<GatewayConfig, { state: GatewayState; workspace: string | null; hooks: ConfigHooks }>();
  const stats: GuardrailStats = { requests: 0, checks: 0, failed_hooks: 0, denied: 0, transformed: 0 };
  const count = (results: HookResult[]) => {
    for (const r of results) {
      stats.checks += r.checks.length;
      if (!r.verdict) stats.failed_hooks++;
    }
  };

  return {
    stats: () => ({ ...stats }),
    beforeRequest(args) {
      if (!HOOKED_ENDPOINTS.has(args.endpoint) || !hasHooks(args.config)) return undefined;
      return guard(args);
    },
  };

  async function guard(args: BeforeRequestArgs): Promise<GuardedRequest> {
    const { config, endpoint } = args;
    const workspace = args.apiKey.workspace_id;
    let entry = parsed.get(config);
    if (!entry || entry.state !== args.state || entry.workspace !== workspace) {
      entry = { state: args.state, workspace, hooks: configHooks(config, lookupFor(args.state, workspace)) };
      parsed.set(config, entry);
    }
    const hooks = entry.hooks;
    stats.requests++;
    const metadata = metadataOf(args.headers, args.apiKey);
    const model = typeof args.body?.model === 'string' ? args.body.model : undefined;
    const strict = config.strict_open_ai_compliance === true || header(args.headers, 'x-portkey-strict-open-ai-compliance') === 'true';
    const asyncWork: Promise<void>[] = [];
    let settle!: () => void;
    const record: GuardrailRecord = {
      before_request_hooks: [],
      after_request_hooks: [],
      verdict: true,
      denied: false,
      transformed: false,
      settled: new Promise<void>((resolve) => (settle = resolve)),
    };
    records.set(args.res, record);

    const requestPhase = (json: unknown): PhaseInput => ({
      base: { phase: 'request', model, metadata },
      json,
      text: (j) => requestText(j as Record<string, unknown>),
      rewrite: (j, fn) => rewriteRequest(j as Record<string, unknown>, fn),
    });
    const responsePhase = (json: unknown, text?: string): PhaseInput => ({
      base: { phase: 'response', model, metadata },
      json,
      text: text === undefined ? responseText : () => text,
      rewrite: (j, fn) => rewriteResponse(j, fn),
    });
    const runAsync = (list: HookDef[], input: PhaseInput, into: HookResult[]) => {
      if (!list.length) return;
      asyncWork.push(
        runPhase(list, input, opts.policy).then(
          (out) => {
            into.push(...out.results);
            count(out.results);
          },
          (err: Error) => logger.warn('async guardrail failed', { reason: err.message }),
        ),
      );
    };
    const finish = () => void Promise.all(asyncWork).then(() => settle());

    // Before the call: sync hooks gate it; async ones run beside it and never delay it.
    let body = args.body;
    const beforeSync = hooks.before.filter((h) => !h.async);
    const beforeAsync = hooks.before.filter((h) => h.async && h.type === 'guardrail');
    if (body && beforeSync.length) {
      const out = await runPhase(beforeSync, requestPhase(body), opts.policy);
      record.before_request_hooks.push(...out.results);
      count(out.results);
      if (out.json !== undefined) {
        body = out.json as Record<string, unknown>;
        record.transformed = true;
        stats.transformed++;
      }
      if (out.failed) record.verdict = false;
      if (out.denied) {
        record.denied = true;
        record.status = 446;
        stats.denied++;
        finish();
        throw new HttpProblem(446, DENY_MESSAGE, {
          error: { message: DENY_MESSAGE, type: 'hooks_failed', param: null, code: null },
          hook_results: { before_request_hooks: record.before_request_hooks, after_request_hooks: [] },
        });
      }
    }
    if (body) runAsync(beforeAsync, requestPhase(body), record.before_request_hooks);
    const afterSync = endpoint === 'embed' ? [] : hooks.after.filter((h) => !h.async);
    const afterAsync = endpoint === 'embed' ? [] : hooks.after.filter((h) => h.async && h.type === 'guardrail');
    const beforeFailed = !record.verdict;

    const guardedReply: ReplyFn = async (res, result, ctx) => {
      if (result.kind !== 'response' || result.status < 200 || result.status >= 300) {
        finish();
        return reply(res, result, ctx);
      }
      if (result.status === 204) return reply(res, result, ctx);
      const isSse = String(result.headers['content-type'] ?? '').includes('text/event-stream');
      if (isSse) return streamReply(res, result, ctx);
      return jsonReply(res, result as Extract<UpstreamResult, { kind: 'response' }>, ctx);
    };

    // Streams: the status (246) and the before-hook results (first chunk) go out with the head;
    // output checks run on the finished stream and are recorded (they can no longer change it).
    const streamReply: ReplyFn = async (res, result, ctx) => {
      const first =
        !strict && record.before_request_hooks.length ? `data: ${JSON.stringify({ hook_results: { before_request_hooks: record.before_request_hooks } })}\n\n` : undefined;
      const writeHead = res.writeHead;
      res.writeHead = function (this: ServerResponse, code: number, ...rest: unknown[]) {
        res.writeHead = writeHead;
        const ok = code === 200;
        const out = (writeHead as (...a: unknown[]) => ServerResponse).call(this, ok && beforeFailed ? 246 : code, ...rest);
        if (ok && first) this.write(first);
        return out;
      } as ServerResponse['writeHead'];
      if (beforeFailed) record.status = 246;
      let captured = '';
      const write = res.write;
      if (afterSync.length || afterAsync.length) {
        res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
          if (captured.length < MAX_STREAM_CAPTURE && chunk !== first) captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
          return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
        } as ServerResponse['write'];
      }
      try {
        return await reply(res, result, ctx);
      } finally {
        res.writeHead = writeHead;
        res.write = write;
        if (afterSync.length || afterAsync.length) {
          const text = streamText(captured);
          runAsync([...afterSync, ...afterAsync], responsePhase(undefined, text), record.after_request_hooks);
        }
        finish();
      }
    };

    const jsonReply = async (res: ServerResponse, result: Extract<UpstreamResult, { kind: 'response' }>, ctx: ReplyContext): Promise<ReplyReturn> => {
      const text = await result.body.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const headers: OutgoingHttpHeaders = {};
      for (const name in result.headers) {
        if (!UPSTREAM_RESPONSE_DROP.has(name) && name !== 'content-length' && name !== 'content-type' && name !== 'content-encoding') headers[name] = result.headers[name];
      }
      Object.assign(headers, ctx.headers);
      if (json === undefined || typeof json !== 'object') {
        // Not JSON: relay it untouched; there is nothing to check or annotate.
        finish();
        res.writeHead(result.status, { ...headers, 'content-type': String(result.headers['content-type'] ?? 'text/plain') });
        res.end(text);
        return outcome(result.status);
      }
      if (ctx.spec.transformResponse) json = ctx.spec.transformResponse(json, ctx.transform);
      let afterFailed = false;
      if (afterSync.length) {
        const out = await runPhase(afterSync, responsePhase(json), opts.policy);
        record.after_request_hooks.push(...out.results);
        count(out.results);
        if (out.json !== undefined) {
          json = out.json;
          record.transformed = true;
          stats.transformed++;
        }
        afterFailed = out.failed;
        if (out.failed) record.verdict = false;
        if (out.denied) {
          record.denied = true;
          record.status = 446;
          stats.denied++;
          finish();
          sendBody(res, 446, { error: { message: DENY_MESSAGE, type: 'hooks_failed', param: null, code: null }, hook_results: hookResults() }, headers);
          return outcome(446);
        }
      }
      runAsync(afterAsync, responsePhase(json), record.after_request_hooks);
      finish();
      const status = beforeFailed || afterFailed ? 246 : result.status;
      if (status === 246) record.status = 246;
      sendBody(res, status, { ...(json as Record<string, unknown>), hook_results: hookResults() }, headers);
      // The response cache keeps the answer as checked (redacted, no hook_results), and only a clean one.
      if (status === result.status) (ctx as { capture?: (contentType: string, body: string) => void }).capture?.('application/json', JSON.stringify(json));
      return outcome(status);
    };

    const hookResults = () => ({ before_request_hooks: record.before_request_hooks, after_request_hooks: record.after_request_hooks });
    return { ...(body !== args.body ? { body } : {}), record, reply: guardedReply };
  }
}

function sendBody(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders): void {
  if (res.headersSent) return void res.destroy();
  const payload = JSON.stringify(body);
  res.writeHead(status, status === 246 ? 'Hooks Failed' : status === 446 ? 'Hooks Denied' : undefined, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}
