import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../core/config-schema.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import type { CustomHostPolicy } from '../pipeline/custom-host.js';
import { UPSTREAM_RESPONSE_DROP } from '../pipeline/forward-headers.js';
import { reply, type ReplyContext } from '../pipeline/reply.js';
import type { LeafPlan } from '../pipeline/plan.js';
import type { UpstreamResult } from '../pipeline/upstream.js';
import type { Endpoint } from '../providers/index.js';
import type { GatewayState } from '../sync/gateway-state.js';
import { runPhase, type HookResult, type PhaseInput } from './engine.js';
import { configHooks, hookShape, validateTree, type ConfigHooks, type GuardrailLookup, type HookDef, type HookFields, type SyncedGuardrail } from './hooks.js';
import { bufferedResult } from './synthetic.js';
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
  /**
   * Wraps the pipeline's send when a nested target sets hooks: each leaf runs the hooks it inherited
   * and is sent its own (possibly redacted) body as the second argument. Returns `send` as is otherwise.
   */
  wrap(send: (leaf: LeafPlan, body?: Record<string, unknown>) => Promise<UpstreamResult>): (leaf: LeafPlan) => Promise<UpstreamResult>;
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
  // Normalised hooks per hook-bearing object (a config, or what a leaf inherited) and snapshot:
  // a saved config's hooks are parsed once per snapshot, not per request.
  const parsed = new WeakMap<object, { state: GatewayState; workspace: string | null; hooks: ConfigHooks }>();
  const hooksOf = (fields: HookFields, state: GatewayState, workspace: string | null, validate?: GatewayConfig): ConfigHooks => {
    let entry = parsed.get(fields);
    if (!entry || entry.state !== state || entry.workspace !== workspace) {
      const lookup = lookupFor(state, workspace);
      if (validate) validateTree(validate, lookup);
      entry = { state, workspace, hooks: configHooks(fields, lookup) };
      parsed.set(fields, entry);
    }
    return entry.hooks;
  };
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
      if (!HOOKED_ENDPOINTS.has(args.endpoint)) return undefined;
      const shape = hookShape(args.config);
      if (shape === 'none') return undefined;
      return guard(args, shape === 'nested');
    },
  };

  /** What the before-hooks of one hook set did to the request: the answering leaf's view. */
  interface Before {
    hooks: ConfigHooks;
    results: HookResult[];
    failed: boolean;
    denied: boolean;
    transformed: boolean;
    body: Record<string, unknown> | undefined;
  }

  async function guard(args: BeforeRequestArgs, nested: boolean): Promise<GuardedRequest> {
    const { config, endpoint } = args;
    const workspace = args.apiKey.workspace_id;
    // The whole tree is validated up front: a bad hook on any target is a 400 before any call.
    const rootHooks = hooksOf(config, args.state, workspace, nested ? config : undefined);
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
    const runBefore = async (hooks: ConfigHooks): Promise<Before> => {
      const out: Before = { hooks, results: [], failed: false, denied: false, transformed: false, body: args.body };
      const sync = hooks.before.filter((h) => !h.async);
      if (args.body && sync.length) {
        const r = await runPhase(sync, requestPhase(args.body), opts.policy);
        out.results.push(...r.results);
        count(r.results);
        if (r.json !== undefined) {
          out.body = r.json as Record<string, unknown>;
          out.transformed = true;
          stats.transformed++;
        }
        out.failed = r.failed;
        out.denied = r.denied;
      }
      if (out.denied) stats.denied++;
      else if (out.body) runAsync(hooks.before.filter((h) => h.async && h.type === 'guardrail'), requestPhase(out.body), out.results);
      return out;
    };
    /** The record shows the leaf that answers (the last one tried). */
    let current: Before | undefined;
    const adopt = (b: Before) => {
      current = b;
      record.before_request_hooks = b.results;
      record.after_request_hooks = [];
      record.verdict = !b.failed;
      record.denied = b.denied;
      record.transformed = b.transformed;
      record.status = b.denied ? 446 : undefined;
    };
    const hookResults = () => ({ before_request_hooks: record.before_request_hooks, after_request_hooks: record.after_request_hooks });
    const denial = () => ({ error: { message: DENY_MESSAGE, type: 'hooks_failed', param: null, code: null }, hook_results: hookResults() });

    // Top-level hooks run once, before the strategy. A deny does not throw: every leaf then answers
    // the 446 without being called, so the denial goes through the reply path and is logged and
    // counted in the metrics like any answer.
    if (!nested) adopt(await runBefore(rootHooks));

    // Nested targets: each leaf runs the hooks it inherited, when the strategy reaches it. Its 446
    // is that target's answer, so a fallback (e.g. `on_status_codes: [446]`) can move on.
    const denied446 = new WeakSet<object>();
    const perLeaf = new Map<string, Promise<Before>>();
    const deniedResult = () => {
      const result = bufferedResult(446, { 'content-type': 'application/json' }, JSON.stringify(denial()));
      denied446.add(result);
      return result;
    };
    const wrap: GuardedRequest['wrap'] = (send) => {
      if (!nested) return current?.denied ? async () => deniedResult() : send;
      return async (leaf: LeafPlan) => {
        let before = perLeaf.get(leaf.path);
        if (!before) perLeaf.set(leaf.path, (before = runBefore(hooksOf(leaf.hooks ?? {}, args.state, workspace))));
        const b = await before;
        adopt(b);
        if (b.denied) return deniedResult();
        return send(leaf, b.body);
      };
    };

    const guardedReply: ReplyFn = async (res, result, ctx) => {
      if (denied446.has(result)) {
        finish();
        sendBody(res, 446, denial(), ctx.headers);
        return outcome(446);
      }
      if (!current) {
        finish();
        return reply(res, result, ctx);
      }
      if (result.kind === 'cached' && result.status >= 200 && result.status < 300 && result.status !== 204) {
        // A cache hit is checked like a fresh answer. What was cached is what was sent (already in
        // OpenAI's shape), so it is not translated again, nor stored again.
        const replay = bufferedResult(result.status, { 'content-type': result.contentType }, result.body);
        const again: ReplyContext = { ...ctx, capture: undefined, ensureUsage: false, spec: { ...ctx.spec, transformResponse: undefined, createStreamTransformer: undefined } };
        return result.contentType.includes('text/event-stream') ? streamReply(res, replay, again) : jsonReply(res, replay, again);
      }
      if (result.kind !== 'response' || result.status < 200 || result.status >= 300) {
        finish();
        return reply(res, result, ctx);
      }
      if (result.status === 204) return reply(res, result, ctx);
      const isSse = String(result.headers['content-type'] ?? '').includes('text/event-stream');
      if (isSse) return streamReply(res, result, ctx);
      return jsonReply(res, result as Extract<UpstreamResult, { kind: 'response' }>, ctx);
    };
    const afterHooks = (async: boolean) =>
      endpoint === 'embed' || !current ? [] : current.hooks.after.filter((h) => (async ? h.async && h.type === 'guardrail' : !h.async));

    // Streams: the status (246) and the before-hook results (first chunk) go out with the head;
    // output checks run on the finished stream and are recorded (they can no longer change it).
    const streamReply: ReplyFn = async (res, result, ctx) => {
      const beforeFailed = current?.failed === true;
      const afterSync = afterHooks(false);
      const afterAsync = afterHooks(true);
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
        const sent = await reply(res, result, ctx);
        // The status the caller got (246 rewritten into the head), for the metric record and budgets.
        return sent.status === 200 && beforeFailed ? { ...sent, status: 246 } : sent;
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
      const beforeFailed = current?.failed === true;
      const afterSync = afterHooks(false);
      const afterAsync = afterHooks(true);
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
          sendBody(res, 446, denial(), headers);
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

    const body = current?.body;
    return { ...(body && body !== args.body ? { body } : {}), record, reply: guardedReply, wrap };
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
