import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MockServer } from '../support/mock-base.js';
import { sseEvents, startEcho } from '../support/mock-echo.js';
import { API_KEY, defaultSpec, gatewayHeaders, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

interface Hook {
  verdict: boolean;
  deny: boolean;
  id: string;
  checks: { id: string; verdict: boolean; error?: { message: string }; data: Record<string, unknown> | null }[];
  feedback: { value?: number; metadata: Record<string, unknown> } | null;
}

let h: GatewayHarness;
let echo: MockServer;
let webhook: Server;
let webhookUrl: string;
const webhookCalls: { body: any; at: number }[] = [];
let webhookBehaviour: { verdict: boolean; delayMs: number; status?: number } = { verdict: true, delayMs: 0 };

beforeAll(async () => {
  echo = await startEcho();
  webhook = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      webhookCalls.push({ body: JSON.parse(text), at: Date.now() });
      const { verdict, delayMs, status } = webhookBehaviour;
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(status ?? 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ verdict, data: { reason: verdict ? 'fine' : 'nope' } }));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/check`;
  h = await startGatewayHarness({
    spec: (mocks) => {
      const spec = defaultSpec(mocks);
      return { ...spec, virtualKeys: [...spec.virtualKeys!, { slug: 'echo-vk', provider: 'openai', secret: 'sk-echo-secret-0123456789', options: { custom_host: `${echo.url}/v1` } }] };
    },
    gateway: {
      guardrails: {
        definitions: [
          { id: 'pg-blocklist', slug: 'blocklist', checks: [{ id: 'default.contains', parameters: { words: ['forbidden'], operator: 'none' } }], actions: { deny: true } },
          { id: 'pg-other-ws', workspace_id: 'ws_other', checks: [{ id: 'default.wordCount', parameters: { maxWords: 1 } }] },
        ],
      },
    },
  });
});

afterAll(async () => {
  await h?.close();
  await echo?.close();
  webhook?.closeAllConnections();
  await new Promise<void>((resolve) => webhook.close(() => resolve()));
});

beforeEach(() => {
  echo.control.reset();
  webhookCalls.length = 0;
  webhookBehaviour = { verdict: true, delayMs: 0 };
});

function config(extra: Record<string, unknown>): string {
  return JSON.stringify({ virtual_key: 'echo-vk', ...extra });
}

async function chat(content: string, cfg: Record<string, unknown>, opts: { stream?: boolean; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: gatewayHeaders({ 'x-portkey-config': config(cfg), ...opts.headers }),
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...(opts.stream ? { stream: true } : {}) }),
  });
  const text = await res.text();
  return { res, text, json: opts.stream ? undefined : (JSON.parse(text) as any) };
}

describe('guardrails through the gateway', () => {
  it('no hooks: plain answer, no hook_results', async () => {
    const { res, json } = await chat('hi', {});
    expect(res.status).toBe(200);
    expect(json.hook_results).toBeUndefined();
  });

  it('a passing input guardrail answers 200 with hook_results', async () => {
    const { res, json } = await chat('hello there', { input_guardrails: [{ 'default.wordCount': { minWords: 1, maxWords: 10 }, deny: true }] });
    expect(res.status).toBe(200);
    expect(json.choices[0].message.content).toBe('echo: hello there');
    const before = json.hook_results.before_request_hooks as Hook[];
    expect(before).toHaveLength(1);
    expect(before[0].verdict).toBe(true);
    expect(before[0].checks[0]).toMatchObject({ id: 'default.wordCount', verdict: true });
    expect(json.hook_results.after_request_hooks).toEqual([]);
  });

  it('on_success and on_fail feedback are reported in the hook result', async () => {
    const hook = { 'default.wordCount': { minWords: 1, maxWords: 3 }, on_success: { feedback: { value: 5, weight: 1, metadata: { team: 'qa' } } }, on_fail: { feedback: { value: -5 } } };
    const passed = await chat('two words', { input_guardrails: [hook] });
    expect(passed.res.status).toBe(200);
    expect(passed.json.hook_results.before_request_hooks[0].feedback).toMatchObject({ value: 5, weight: 1, metadata: { team: 'qa', successfulChecks: 'default.wordCount' } });
    const failed = await chat('one two three four five', { input_guardrails: [hook] });
    expect(failed.res.status).toBe(246);
    expect(failed.json.hook_results.before_request_hooks[0].feedback).toMatchObject({ value: -5, metadata: { failedChecks: 'default.wordCount' } });
  });

  it('a failed check without deny answers 246 and passes the response through', async () => {
    const { res, json } = await chat('hello there', {
      input_guardrails: [{ 'default.regexMatch': { rule: '^\\d+$' }, on_fail: { feedback: { value: -1, weight: 1 } } }],
    });
    expect(res.status).toBe(246);
    expect(json.choices[0].message.content).toBe('echo: hello there');
    const hook = json.hook_results.before_request_hooks[0] as Hook;
    expect(hook.verdict).toBe(false);
    expect(hook.deny).toBe(false);
    expect(hook.feedback).toMatchObject({ value: -1, metadata: { failedChecks: 'default.regexMatch' } });
    expect(echo.control.requests).toHaveLength(1);
  });

  it('deny: true answers 446 with hook_results and never calls the upstream', async () => {
    const { res, json } = await chat('this is forbidden', { input_guardrails: [{ 'default.contains': { words: ['forbidden'], operator: 'none' }, deny: true }] });
    expect(res.status).toBe(446);
    expect(json.error.type).toBe('hooks_failed');
    expect(json.hook_results.before_request_hooks[0].verdict).toBe(false);
    expect(json.hook_results.before_request_hooks[0].checks[0].data.found).toEqual(['forbidden']);
    expect(echo.control.requests).toHaveLength(0);
  });

  it('streams: 246 with hook_results in the first chunk; 446 before any stream; none in strict mode', async () => {
    const failing = { input_guardrails: [{ 'default.alluppercase': {} }] };
    const s = await chat('not shouting', failing, { stream: true });
    expect(s.res.status).toBe(246);
    const events = sseEvents(s.text);
    expect(events[0].hook_results.before_request_hooks[0].verdict).toBe(false);
    expect(events.slice(1).map((e) => e.choices?.[0]?.delta?.content ?? '').join('')).toBe('echo: not shouting');

    const strict = await chat('not shouting', failing, { stream: true, headers: { 'x-portkey-strict-open-ai-compliance': 'true' } });
    expect(strict.res.status).toBe(246);
    expect(sseEvents(strict.text).every((e) => e.hook_results === undefined)).toBe(true);

    const denied = await chat('not shouting', { input_guardrails: [{ 'default.alluppercase': {}, deny: true }] }, { stream: true });
    expect(denied.res.status).toBe(446);
    expect(denied.res.headers.get('content-type')).toContain('application/json');
    expect(JSON.parse(denied.text).hook_results.before_request_hooks).toHaveLength(1);

    const passing = await chat('SHOUTING', failing, { stream: true });
    expect(passing.res.status).toBe(200);
    expect(sseEvents(passing.text)[0].hook_results.before_request_hooks[0].verdict).toBe(true);
  });

  it('redaction rewrites the request before it leaves', async () => {
    const { res, json } = await chat('mail me at ada@example.com, card 4111 1111 1111 1111', { input_guardrails: [{ 'default.pii': { redact: true } }] });
    expect(res.status).toBe(200);
    const sent = echo.control.requests[0].body.messages[0].content;
    expect(sent).toBe('mail me at [REDACTED_EMAIL], card [REDACTED_CREDIT_CARD]');
    expect(json.choices[0].message.content).toBe(`echo: ${sent}`);
    expect(json.hook_results.before_request_hooks[0].transformed).toBe(true);
  });

  it('output guardrails: redaction rewrites the response; a failure is 246; deny is 446', async () => {
    const redacted = await chat('call +1 (415) 555-0132', { output_guardrails: [{ 'default.pii': { redact: true } }] });
    expect(echo.control.requests[0].body.messages[0].content).toBe('call +1 (415) 555-0132');
    expect(redacted.res.status).toBe(200);
    expect(redacted.json.choices[0].message.content).toBe('echo: call [REDACTED_PHONE]');
    expect(redacted.json.hook_results.after_request_hooks[0].transformed).toBe(true);

    const failed = await chat('plain words', { output_guardrails: [{ 'default.endsWith': { suffix: '.' } }] });
    expect(failed.res.status).toBe(246);
    expect(failed.json.choices[0].message.content).toBe('echo: plain words');
    expect(failed.json.hook_results.after_request_hooks[0].verdict).toBe(false);

    const denied = await chat('plain words', { after_request_hooks: [{ type: 'guardrail', id: 'ends', checks: [{ id: 'default.endsWith', parameters: { suffix: '.' } }], deny: true }] });
    expect(denied.res.status).toBe(446);
    expect(denied.json.choices).toBeUndefined();
    expect(denied.json.hook_results.after_request_hooks[0].id).toBe('ends');
  });

  it('output guardrails on a stream run on the finished text and never change what was sent', async () => {
    const s = await chat('no bang', { output_guardrails: [{ 'default.endsWith': { suffix: '!' }, deny: true }] }, { stream: true });
    expect(s.res.status).toBe(200);
    expect(sseEvents(s.text).map((e) => e.choices?.[0]?.delta?.content ?? '').join('')).toBe('echo: no bang');
  });

  it('guardrails synced from the control plane attach by id or slug; unknown ids are a 400', async () => {
    const ok = await chat('fine text', { before_request_hooks: ['pg-blocklist'] });
    expect(ok.res.status).toBe(200);
    const denied = await chat('forbidden text', { input_guardrails: ['blocklist'] });
    expect(denied.res.status).toBe(446);
    const unknown = await chat('x', { input_guardrails: ['pg-nope'] });
    expect(unknown.res.status).toBe(400);
    expect(unknown.json.message).toMatch(/pg-nope/);
    // Another workspace's guardrail is not visible to this key.
    expect((await chat('x', { input_guardrails: ['pg-other-ws'] })).res.status).toBe(400);
    expect((await chat('x', { input_guardrails: [{ 'default.nope': {} }] })).res.status).toBe(400);
  });

  it('webhook check: verdicts, fail-open and fail-closed on timeout', async () => {
    const hook = (params: Record<string, unknown>, deny = true) => ({ before_request_hooks: [{ type: 'guardrail', id: 'wh', deny, checks: [{ id: 'default.webhook', parameters: { webhookURL: webhookUrl, ...params } }] }] });
    expect((await chat('hi', hook({}))).res.status).toBe(200);
    expect(webhookCalls[0].body).toMatchObject({ eventType: 'beforeRequestHook', request: { text: 'hi' } });

    webhookBehaviour = { verdict: false, delayMs: 0 };
    expect((await chat('hi', hook({}))).res.status).toBe(446);
    expect((await chat('hi', hook({}, false))).res.status).toBe(246);

    webhookBehaviour = { verdict: false, delayMs: 1000 };
    const open = await chat('hi', hook({ timeout: 100 }));
    expect(open.res.status).toBe(200); // fail open: an errored check does not fail the hook
    expect(open.json.hook_results.before_request_hooks[0].checks[0].error.message).toMatch(/timed out/);
    const closed = await chat('hi', hook({ timeout: 100, failOnError: true }));
    expect(closed.res.status).toBe(446);
  });

  it('async hooks never delay the response', async () => {
    webhookBehaviour = { verdict: false, delayMs: 800 };
    const started = Date.now();
    const { res, json } = await chat('hi', { before_request_hooks: [{ type: 'guardrail', id: 'slow', async: true, deny: true, checks: [{ id: 'default.webhook', parameters: { webhookURL: webhookUrl } }] }] });
    expect(Date.now() - started).toBeLessThan(600);
    expect(res.status).toBe(200);
    expect(json.choices[0].message.content).toBe('echo: hi');
    await new Promise((r) => setTimeout(r, 100));
    expect(webhookCalls).toHaveLength(1);
  });

  it('the openai SDK reads a 246 answer as a normal completion', async () => {
    const client = new OpenAI({
      baseURL: `${h.gateway.url}/v1`,
      apiKey: 'unused',
      defaultHeaders: { 'x-portkey-api-key': API_KEY, 'x-portkey-config': config({ input_guardrails: [{ 'default.alluppercase': {} }] }) },
    });
    const reply = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'quiet please' }] });
    expect(reply.choices[0].message.content).toBe('echo: quiet please');
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'quiet please' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices?.[0]?.delta?.content ?? '';
    expect(text).toBe('echo: quiet please');
  });
});
