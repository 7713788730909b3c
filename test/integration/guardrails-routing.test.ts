import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MockServer } from '../support/mock-base.js';
import { sseEvents, startEcho } from '../support/mock-echo.js';
import { defaultSpec, gatewayHeaders, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

/**
 * Hooks on nested targets (inherited down the config tree, like request_timeout) and hooks on
 * cached answers (a HIT is checked like a fresh answer).
 */
let h: GatewayHarness;
let echo: MockServer;
let webhook: Server;
let webhookUrl: string;
const webhookCalls: any[] = [];

beforeAll(async () => {
  echo = await startEcho();
  webhook = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      webhookCalls.push(JSON.parse(text));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ verdict: true }));
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/check`;
  h = await startGatewayHarness({
    spec: (mocks) => {
      const spec = defaultSpec(mocks);
      const vk = (slug: string) => ({ slug, provider: 'openai', secret: 'sk-echo-secret-0123456789', options: { custom_host: `${echo.url}/v1` } });
      return { ...spec, virtualKeys: [...spec.virtualKeys!, vk('echo-a'), vk('echo-b')] };
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
});

async function chat(content: string, cfg: Record<string, unknown>, opts: { stream?: boolean; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: gatewayHeaders({ 'x-portkey-config': JSON.stringify(cfg), ...opts.headers }),
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...(opts.stream ? { stream: true } : {}) }),
  });
  const text = await res.text();
  return { res, text, json: opts.stream || !text.startsWith('{') ? undefined : (JSON.parse(text) as any) };
}

const deny = (word: string) => [{ 'default.contains': { words: [word], operator: 'none' }, deny: true }];
const streamText = (text: string) => sseEvents(text).map((e) => e.choices?.[0]?.delta?.content ?? '').join('');

describe('hooks on nested targets', () => {
  it('a deny guardrail on a nested target answers 446, streaming and not, and never calls that target', async () => {
    const cfg = { strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'echo-a', input_guardrails: deny('forbidden') }] };
    const plain = await chat('a forbidden word', cfg);
    expect(plain.res.status).toBe(446);
    expect(plain.json.error.type).toBe('hooks_failed');
    expect(plain.json.hook_results.before_request_hooks[0].checks[0]).toMatchObject({ id: 'default.contains', verdict: false });
    const streamed = await chat('a forbidden word', cfg, { stream: true });
    expect(streamed.res.status).toBe(446);
    expect(streamed.res.headers.get('content-type')).toContain('application/json');
    expect(JSON.parse(streamed.text).hook_results.before_request_hooks).toHaveLength(1);
    expect(echo.control.requests).toHaveLength(0);

    const allowed = await chat('a fine word', cfg);
    expect(allowed.res.status).toBe(200);
    expect(allowed.json.hook_results.before_request_hooks[0].verdict).toBe(true);
  });

  it('a failed check without deny on a nested target is 246, with hook_results in the first chunk of a stream', async () => {
    const cfg = { strategy: { mode: 'loadbalance' }, targets: [{ virtual_key: 'echo-a', input_guardrails: [{ 'default.alluppercase': {} }] }] };
    const plain = await chat('quiet words', cfg);
    expect(plain.res.status).toBe(246);
    expect(plain.json.choices[0].message.content).toBe('echo: quiet words');
    const streamed = await chat('quiet words', cfg, { stream: true });
    expect(streamed.res.status).toBe(246);
    const events = sseEvents(streamed.text);
    expect(events[0].hook_results.before_request_hooks[0]).toMatchObject({ verdict: false, deny: false });
    expect(streamText(streamed.text)).toBe('echo: quiet words');
  });

  it('hooks are inherited down the tree; a target that sets the field replaces what it inherited', async () => {
    const cfg = {
      strategy: { mode: 'fallback', on_status_codes: [446] },
      targets: [
        { strategy: { mode: 'single' }, input_guardrails: deny('secret'), targets: [{ virtual_key: 'echo-a' }] },
        { strategy: { mode: 'single' }, input_guardrails: deny('secret'), targets: [{ virtual_key: 'echo-b', input_guardrails: [] }] },
      ],
    };
    const res = await chat('the secret plan', cfg);
    // targets[0]'s leaf inherits the deny: 446, and the fallback moves on; targets[1]'s leaf cleared it.
    expect(res.res.status).toBe(200);
    expect(res.res.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1].targets[0]');
    expect(echo.control.requests).toHaveLength(1);
    expect(res.json.hook_results.before_request_hooks).toEqual([]);

    // Without 446 among the fallback codes... any non-2xx still falls back (Portkey's default).
    const noFallback = await chat('the secret plan', { ...cfg, strategy: { mode: 'fallback', on_status_codes: [500] } });
    expect(noFallback.res.status).toBe(446);
  });

  it('each leaf is sent its own redacted body; output guardrails of the answering leaf apply', async () => {
    const cfg = {
      strategy: { mode: 'fallback' },
      targets: [
        { virtual_key: 'echo-a', input_guardrails: [{ 'default.pii': { redact: true, categories: ['email'] } }], output_guardrails: [{ 'default.endsWith': { suffix: '!' }, deny: true }] },
        { virtual_key: 'echo-b', output_guardrails: [{ 'default.pii': { redact: true } }] },
      ],
    };
    const res = await chat('write to ada@example.com', cfg);
    expect(echo.control.requests[0].body.messages[0].content).toBe('write to [REDACTED_EMAIL]');
    // The first leaf's answer fails its deny output check: 446 (output checks run on the final answer).
    expect(res.res.status).toBe(446);
    expect(res.json.hook_results.after_request_hooks[0].verdict).toBe(false);

    // The first target fails upstream: the fallback's leaf has no input hooks, so it is sent the
    // caller's body as is; its own output guardrail redacts the answer.
    echo.control.reset();
    echo.control.fail(500, 1);
    const fellBack = await chat('write to ada@example.com', cfg);
    expect(fellBack.res.status).toBe(200);
    expect(fellBack.res.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
    expect(echo.control.requests.map((r) => r.body.messages[0].content)).toEqual(['write to [REDACTED_EMAIL]', 'write to ada@example.com']);
    expect(fellBack.json.choices[0].message.content).toBe('echo: write to [REDACTED_EMAIL]');
    expect(fellBack.json.hook_results.before_request_hooks).toEqual([]);
    expect(fellBack.json.hook_results.after_request_hooks[0].transformed).toBe(true);
  });

  it('a bad hook on any nested target is a 400 before any call', async () => {
    const res = await chat('hi', { strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'echo-a' }, { virtual_key: 'echo-b', output_guardrails: [{ 'default.nope': {} }] }] });
    expect(res.res.status).toBe(400);
    expect(echo.control.requests).toHaveLength(0);
  });
});

describe('cached answers go through the output guardrails', () => {
  it('a HIT is redacted, annotated and denied like a fresh answer', async () => {
    const cache = { mode: 'simple', max_age: 60 };
    // A unique suffix with letters: a bare 13-digit timestamp passes the Luhn check about one time in ten and is redacted as a card.
    const content = `mail ada@example.com run-${Date.now().toString(36)}`;
    const miss = await chat(content, { virtual_key: 'echo-a', cache });
    expect(miss.res.headers.get('x-portkey-cache-status')).toBe('MISS');
    expect(miss.json.choices[0].message.content).toContain('ada@example.com');

    const redacted = await chat(content, { virtual_key: 'echo-a', cache, output_guardrails: [{ 'default.pii': { redact: true } }] });
    expect(redacted.res.headers.get('x-portkey-cache-status')).toBe('HIT');
    expect(redacted.res.status).toBe(200);
    expect(redacted.json.choices[0].message.content).toMatch(/^echo: mail \[REDACTED_EMAIL\] run-[0-9a-z]+$/);
    expect(redacted.json.hook_results.after_request_hooks[0].transformed).toBe(true);

    const failed = await chat(content, { virtual_key: 'echo-a', cache, output_guardrails: [{ 'default.endsWith': { suffix: '!' } }] });
    expect(failed.res.headers.get('x-portkey-cache-status')).toBe('HIT');
    expect(failed.res.status).toBe(246);
    const denied = await chat(content, { virtual_key: 'echo-a', cache, output_guardrails: [{ 'default.endsWith': { suffix: '!' }, deny: true }] });
    expect(denied.res.status).toBe(446);
    expect(denied.json.choices).toBeUndefined();
    expect(echo.control.requests).toHaveLength(1);

    // The HIT was not stored again with hook_results or a redaction: a plain request still gets the original.
    const plain = await chat(content, { virtual_key: 'echo-a', cache });
    expect(plain.res.headers.get('x-portkey-cache-status')).toBe('HIT');
    expect(plain.json.choices[0].message.content).toContain('ada@example.com');
    expect(plain.json.hook_results).toBeUndefined();
  });

  it('a streamed HIT replays with 246, hook_results in the first chunk, and output checks on the replayed text', async () => {
    const cache = { mode: 'simple', max_age: 60 };
    const content = `stream me ${Date.now()}`;
    const miss = await chat(content, { virtual_key: 'echo-a', cache }, { stream: true });
    expect(miss.res.headers.get('x-portkey-cache-status')).toBe('MISS');
    await new Promise((r) => setTimeout(r, 50));

    const cfg = {
      virtual_key: 'echo-a',
      cache,
      input_guardrails: [{ 'default.alluppercase': {} }],
      output_guardrails: [{ 'default.webhook': { webhookURL: webhookUrl } }],
    };
    const hit = await chat(content, cfg, { stream: true });
    expect(hit.res.headers.get('x-portkey-cache-status')).toBe('HIT');
    expect(hit.res.status).toBe(246);
    const events = sseEvents(hit.text);
    expect(events[0].hook_results.before_request_hooks[0].verdict).toBe(false);
    expect(streamText(hit.text)).toBe(`echo: ${content}`);
    expect(echo.control.requests).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 200));
    const after = webhookCalls.find((c) => c.eventType === 'afterRequestHook');
    expect(after?.response?.text).toBe(`echo: ${content}`);
  });
});
