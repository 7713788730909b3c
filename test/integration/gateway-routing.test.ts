import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHAT_BODY, DEFAULT_CONFIG_API_KEY, gatewayHeaders, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

let h: GatewayHarness;
beforeAll(async () => {
  h = await startGatewayHarness();
});
afterAll(async () => h?.close());
beforeEach(() => {
  h.openai.control.reset();
  h.backup.control.reset();
  h.anthropic.control.reset();
});

async function chat(config: unknown, body: object = CHAT_BODY) {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: gatewayHeaders({ 'x-portkey-config': typeof config === 'string' ? config : JSON.stringify(config) }),
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  return { res, json, text: json?.choices?.[0]?.message?.content as string | undefined };
}

const fallback = (targets: object[], strategy: object = {}) => ({ strategy: { mode: 'fallback', ...strategy }, targets });

describe('config routing', () => {
  it('falls back from a 503 target to a healthy one and reports which answered', async () => {
    h.openai.control.fail(503);
    const { res, text } = await chat(fallback([{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }]));
    expect(res.status).toBe(200);
    expect(text).toBe('Hello from backup');
    expect(res.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
    expect(res.headers.get('x-portkey-retry-attempt-count')).toBe('0');
    expect(res.headers.get('x-portkey-provider')).toBe('openai');
    expect(h.openai.control.requests).toHaveLength(1);
  });

  it('stays on the first target when it answers', async () => {
    const { res, text } = await chat(fallback([{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }]));
    expect(text).toBe('Hello from primary');
    expect(res.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[0]');
    expect(h.backup.control.requests).toHaveLength(0);
  });

  it('falls back only on the listed status codes', async () => {
    h.openai.control.fail(429);
    const { res } = await chat(fallback([{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }], { on_status_codes: [503] }));
    expect(res.status).toBe(429);
    expect(h.backup.control.requests).toHaveLength(0);
  });

  it('reports nested option paths', async () => {
    h.openai.control.fail(500);
    const config = fallback([
      { virtual_key: 'openai-vk' },
      { strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }] },
    ]);
    const { res, text } = await chat(config);
    expect(text).toBe('Hello from backup');
    expect(res.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1].targets[1]');
  });

  it('returns the last failure when every target fails, in OpenAI shape', async () => {
    h.openai.control.fail(503);
    h.backup.control.fail(502);
    const { res, json } = await chat(fallback([{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }]));
    expect(res.status).toBe(502);
    expect(json.error.message).toBe('mock backup failing with 502');
  });

  it('retries on retryable codes and reports the count', async () => {
    h.openai.control.fail(429, 2);
    const { res, text } = await chat({ virtual_key: 'openai-vk', retry: { attempts: 3 } });
    expect(text).toBe('Hello from primary');
    expect(res.headers.get('x-portkey-retry-attempt-count')).toBe('2');
    expect(res.headers.get('x-portkey-last-used-option-index')).toBe('config');
    expect(h.openai.control.requests).toHaveLength(3);
  });

  it('does not retry codes outside retry.on_status_codes', async () => {
    h.openai.control.fail(500, 1);
    const { res } = await chat({ virtual_key: 'openai-vk', retry: { attempts: 3, on_status_codes: [429] } });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-portkey-retry-attempt-count')).toBe('0');
  });

  it('load balances by weight', async () => {
    const config = { strategy: { mode: 'loadbalance' }, targets: [{ virtual_key: 'openai-vk', weight: 3 }, { virtual_key: 'backup-vk', weight: 1 }] };
    const counts = { primary: 0, backup: 0 };
    for (let i = 0; i < 400; i++) {
      const { text } = await chat(config);
      counts[text === 'Hello from primary' ? 'primary' : 'backup']++;
    }
    // 3:1 → 300 expected; the band is ~6 standard deviations wide.
    expect(counts.primary).toBeGreaterThan(250);
    expect(counts.primary).toBeLessThan(350);
    const zero = { strategy: { mode: 'loadbalance' }, targets: [{ virtual_key: 'openai-vk', weight: 0 }, { virtual_key: 'backup-vk', weight: 1 }] };
    for (let i = 0; i < 20; i++) expect((await chat(zero)).text).toBe('Hello from backup');
  });

  it('merges override_params from parent to child', async () => {
    const config = {
      override_params: { model: 'parent-model', temperature: 0.1 },
      strategy: { mode: 'single' },
      targets: [{ virtual_key: 'openai-vk', override_params: { model: 'child-model' } }],
    };
    await chat(config, { ...CHAT_BODY, temperature: 0.9 });
    expect(h.openai.control.requests[0].body).toMatchObject({ model: 'child-model', temperature: 0.1, messages: CHAT_BODY.messages });
  });

  it('accepts provider + api_key + custom_host targets at the top level', async () => {
    const { text } = await chat({ provider: 'openai', api_key: 'sk-openai-backup-secret-0123456789abcdef', custom_host: `${h.backup.url}/v1` });
    expect(text).toBe('Hello from backup');
  });

  it('routes a saved config by slug and by id, and the key’s default config', async () => {
    expect((await chat('fallback-config')).text).toBe('Hello from primary');
    expect((await chat(h.sync.snapshot().configs[0].id)).text).toBe('Hello from primary');
    h.openai.control.fail(503);
    const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': DEFAULT_CONFIG_API_KEY },
      body: JSON.stringify(CHAT_BODY),
    });
    expect(((await res.json()) as any).choices[0].message.content).toBe('Hello from backup');
    expect(res.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
  });

  it('times out a slow target (408, Portkey’s shape) and falls back', async () => {
    h.openai.control.delayMs = 500;
    const alone = await chat({ virtual_key: 'openai-vk', request_timeout: 100 });
    expect(alone.res.status).toBe(408);
    expect(alone.json).toEqual({ error: { message: 'Request exceeded the timeout sent in the request: 100ms', type: 'timeout_error', param: null, code: null } });
    const { text } = await chat({ request_timeout: 100, ...fallback([{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }]) });
    expect(text).toBe('Hello from backup');
  });

  it('x-portkey-request-timeout bounds the wait like request_timeout and takes precedence over the config (as Portkey)', async () => {
    const timed = (config: object, ms: string, body: object = CHAT_BODY) =>
      fetch(`${h.gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: gatewayHeaders({ 'x-portkey-config': JSON.stringify(config), 'x-portkey-request-timeout': ms }),
        body: JSON.stringify(body),
      });
    h.openai.control.delayMs = 400;
    const alone = await timed({ virtual_key: 'openai-vk' }, '100');
    expect(alone.status).toBe(408);
    expect(await alone.json()).toEqual({ error: { message: 'Request exceeded the timeout sent in the request: 100ms', type: 'timeout_error', param: null, code: null } });
    // The header replaces the target's request_timeout both ways: shorter cuts, longer lets it answer.
    const shorter = await timed({ virtual_key: 'openai-vk', request_timeout: 5000 }, '100');
    expect(shorter.status).toBe(408);
    await shorter.arrayBuffer();
    const longer = await timed({ virtual_key: 'openai-vk', request_timeout: 100 }, '3000');
    expect(longer.status).toBe(200);
    expect(((await longer.json()) as any).choices[0].message.content).toBe('Hello from primary');
    // It applies to every target: the first times out, the fallback answers.
    const fell = await timed(fallback([{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }]), '100');
    expect(((await fell.json()) as any).choices[0].message.content).toBe('Hello from backup');
    expect(fell.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');

    // A started stream is cut only when it goes idle for longer than the header allows.
    h.openai.control.reset();
    h.openai.control.holdStreamAfterFirstChunk();
    const idle = await timed({ virtual_key: 'openai-vk' }, '150', { ...CHAT_BODY, stream: true });
    expect(idle.status).toBe(200);
    const events = (await idle.text()).trim().split('\n\n');
    expect(events.join('\n')).not.toContain('[DONE]');
    expect(JSON.parse(events.at(-1)!.slice(6)).error.type).toBe('timeout_error');
    h.openai.control.releaseStream();

    const bad = await timed({ virtual_key: 'openai-vk' }, 'soon');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toContain('x-portkey-request-timeout');
  });

  it('answers 502 when the upstream cannot be reached', async () => {
    const { res, json } = await chat({ provider: 'openai', api_key: 'sk-x', custom_host: 'http://127.0.0.1:9/v1' });
    expect(res.status).toBe(502);
    expect(json.error.code).toBe('upstream_unreachable');
    expect(JSON.stringify(json)).not.toContain('sk-x');
  });
});
