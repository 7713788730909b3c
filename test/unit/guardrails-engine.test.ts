import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../../runtime/core/errors.js';
import type { SyncApiKey } from '../../runtime/core/sync-contract.js';
import { createGuardrails, guardrailResults } from '../../runtime/gateway/guardrails/index.js';
import { configHooks } from '../../runtime/gateway/guardrails/hooks.js';
import { streamText } from '../../runtime/gateway/guardrails/text.js';
import { createLimits } from '../../runtime/gateway/limits/index.js';
import { EMPTY_STATE } from '../../runtime/gateway/sync/gateway-state.js';
import { guardrailMetrics } from '../../runtime/gateway/guardrails/metrics.js';
import { limitsOptionsFromEnv } from '../../runtime/gateway/limits/env.js';

const apiKey: SyncApiKey = { id: 'key_1', key_hash: 'h', workspace_id: 'ws_1', type: 'service', scopes: [], status: 'active', expires_at: null, defaults: { metadata: { team: 'a' } } };
const fakeRes = () => {
  const headers: Record<string, string> = {};
  return { headersSent: false, setHeader: (k: string, v: string) => void (headers[k] = v), getHeader: (k: string) => headers[k], write: () => true, end() { return this; } } as unknown as ServerResponse;
};
const none = { get: () => undefined };

describe('hook definitions', () => {
  it('normalises the shorthand, full hooks and synced ids in Portkey order', () => {
    const lookup = { get: (id: string) => (id === 'pg-1' ? { id: 'pg-1', slug: 'one', checks: [{ id: 'wordCount', parameters: { maxWords: 3 } }, { id: 'endsWith', is_enabled: false }], actions: { deny: true, on_fail: { feedback: { value: -1 } } } } : undefined) };
    const hooks = configHooks(
      {
        virtual_key: 'v',
        before_request_hooks: [{ type: 'guardrail', id: 'full', checks: [{ id: 'default.regexMatch', parameters: { rule: 'x' } }], async: true }],
        input_guardrails: ['pg-1', { 'default.contains': { words: ['a'], operator: 'none' }, 'regexMatch': { rule: 'y' }, deny: true, on_success: { feedback: { value: 1 } } }],
        output_guardrails: [{ 'default.pii': { redact: true } }],
      },
      lookup,
    );
    expect(hooks.before.map((h) => [h.id, h.async, h.deny, h.checks.map((c) => c.id)])).toEqual([
      ['full', true, false, ['default.regexMatch']],
      ['one', false, true, ['default.wordCount']],
      ['input_guardrail_1', false, true, ['default.contains', 'default.regexMatch']],
    ]);
    expect(hooks.before[1].onFail).toEqual({ feedback: { value: -1 } });
    expect(hooks.after[0]).toMatchObject({ eventType: 'afterRequestHook', checks: [{ id: 'default.pii', parameters: { redact: true } }] });
    expect(() => configHooks({ virtual_key: 'v', before_request_hooks: [{ type: 'guardrail' }] }, none)).toThrow(HttpProblem);
  });

  it('reads the text of an OpenAI stream', () => {
    const sse = 'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\ndata: {"choices":[{"delta":{"content":"Hel"}}]}\n\ndata: {"choices":[{"delta":{"content":"lo"}}]}\n\ndata: [DONE]\n\n';
    expect(streamText(sse)).toBe('Hello');
  });
});

describe('the per-request record (for telemetry)', () => {
  it('guardrailResults(res) holds the results, status and rewrite; metadata includes the key defaults', async () => {
    const g = createGuardrails();
    const res = fakeRes();
    const guarded = await g.beforeRequest({
      res,
      config: { virtual_key: 'v', input_guardrails: [{ 'default.requiredMetadataKeys': { metadataKeys: ['team', 'user'] }, 'default.pii': { redact: true } }] },
      body: { model: 'm', messages: [{ role: 'user', content: 'mail a@b.co' }] },
      endpoint: 'chatComplete',
      headers: { 'x-portkey-metadata': '{"user":"u1"}' },
      apiKey,
      state: EMPTY_STATE,
    });
    expect(guarded?.body).toEqual({ model: 'm', messages: [{ role: 'user', content: 'mail [REDACTED_EMAIL]' }] });
    const record = guardrailResults(res)!;
    expect(record).toBe(guarded!.record);
    expect(record).toMatchObject({ verdict: true, denied: false, transformed: true });
    expect(record.before_request_hooks[0].checks.map((c) => c.verdict)).toEqual([true, true]);
    expect(g.stats()).toMatchObject({ requests: 1, checks: 2, failed_hooks: 0, denied: 0, transformed: 1 });
  });

  it('no hooks: undefined, and nothing recorded', async () => {
    const g = createGuardrails();
    const res = fakeRes();
    expect(await g.beforeRequest({ res, config: { virtual_key: 'v' }, body: {}, endpoint: 'chatComplete', headers: {}, apiKey, state: EMPTY_STATE })).toBeUndefined();
    expect(guardrailResults(res)).toBeUndefined();
  });

  it('a deny records 446, and every leaf then answers it without being sent', async () => {
    const g = createGuardrails();
    const res = fakeRes();
    const guard = await g.beforeRequest({ res, config: { virtual_key: 'v', input_guardrails: [{ 'default.modelWhitelist': { models: ['ok'] }, deny: true }] }, body: { model: 'bad', messages: [] }, endpoint: 'chatComplete', headers: {}, apiKey, state: EMPTY_STATE });
    expect(guardrailResults(res)).toMatchObject({ denied: true, status: 446, verdict: false });
    let sent = 0;
    const send = guard!.wrap(async () => {
      sent++;
      throw new Error('must not be sent');
    });
    const answer = await send({ path: 'config' } as never);
    expect(answer).toMatchObject({ kind: 'response', status: 446 });
    expect(sent).toBe(0);
  });
});

describe('usage report for the control plane', () => {
  it('drains per-entity deltas with the shared totals', async () => {
    const limits = createLimits({ apiKeys: { key_1: { usage_limits: { type: 'tokens', credit_limit: 1000, periodic_reset: 'monthly' } } }, now: () => Date.UTC(2025, 5, 14) });
    for (let i = 0; i < 2; i++) {
      const res = fakeRes();
      const admission = await limits.admit({ res, state: EMPTY_STATE, apiKey, config: { virtual_key: 'v' }, body: { messages: [{ role: 'user', content: 'x'.repeat(40) }] }, endpoint: 'chatComplete', headers: {} });
      res.end(JSON.stringify({ usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } }));
      await admission!.settle({ status: 200, provider: 'openai', model: 'gpt-4o-mini' });
    }
    expect(limits.usageReport()).toEqual([{ scope: 'api_key', id: 'key_1', type: 'tokens', period: '2025-06', delta: 20, total: 20 }]);
    expect(limits.usageReport()).toEqual([]);
  });
});

describe('settings and metrics', () => {
  it('limits from the environment: shared through Redis only with TOLLGATE_CACHE=redis', async () => {
    expect(limitsOptionsFromEnv({})).toEqual({});
    expect(limitsOptionsFromEnv({ TOLLGATE_BUDGET_ALERT_WEBHOOK: 'https://h.example/b' })).toEqual({ alertWebhook: 'https://h.example/b' });
    expect(() => limitsOptionsFromEnv({ TOLLGATE_CACHE: 'redis', TOLLGATE_REDIS_URL: 'redis://127.0.0.1:1', TOLLGATE_RATE_LIMIT_ON_REDIS_DOWN: 'maybe' })).toThrow(/local/);
    const shared = limitsOptionsFromEnv({ TOLLGATE_CACHE: 'redis', TOLLGATE_REDIS_URL: 'redis://127.0.0.1:1', TOLLGATE_RATE_LIMIT_ON_REDIS_DOWN: 'open' });
    expect(shared.limiter?.kind).toBe('redis');
    expect(shared.budgets?.kind).toBe('redis');
    await Promise.all([shared.limiter!.close(), shared.budgets!.close()]);
  });

  it('Prometheus counters', () => {
    const text = guardrailMetrics({ requests: 3, checks: 7, failed_hooks: 1, denied: 1, transformed: 2 }, { admitted: 5, limited: 2, budget_exhausted: 0, degraded: 0 });
    expect(text).toContain('tollgate_guardrail_denied_total 1');
    expect(text).toContain('tollgate_rate_limited_total 2');
    expect(guardrailMetrics(undefined, undefined)).toBe('');
  });
});
