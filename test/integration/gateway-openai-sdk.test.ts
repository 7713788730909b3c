import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, OPENAI_SECRET, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

let h: GatewayHarness;
beforeAll(async () => {
  h = await startGatewayHarness();
});
afterAll(async () => h?.close());
beforeEach(() => {
  h.openai.control.reset();
  h.backup.control.reset();
});

function client(headers: Record<string, string>) {
  // The SDK's own apiKey is a dummy: the provider key comes from the virtual key, and must not leak upstream.
  return new OpenAI({ apiKey: 'sk-caller-dummy', baseURL: `${h.gateway.url}/v1`, defaultHeaders: { 'x-portkey-api-key': API_KEY, ...headers }, maxRetries: 0 });
}

describe('the unmodified openai SDK through the gateway', () => {
  it('chats without streaming, with the provider key from the virtual key', async () => {
    const { data, response } = await client({ 'x-portkey-virtual-key': 'openai-vk' })
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }] })
      .withResponse();
    expect(data.choices[0].message.content).toBe('Hello from primary');
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-portkey-provider')).toBe('openai');
    expect(response.headers.get('x-portkey-trace-id')).toMatch(/.+/);
    const seen = h.openai.control.requests[0];
    expect(seen.headers.authorization).toBe(`Bearer ${OPENAI_SECRET}`);
    expect(seen.path).toBe('/v1/chat/completions');
  });

  it('streams chat completions, usage included', async () => {
    const stream = await client({ 'x-portkey-virtual-key': 'openai-vk' }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello from primary');
    expect(usage?.completion_tokens).toBe(3);
  });

  it('creates embeddings (the SDK asks for base64 and decodes it)', async () => {
    const res = await client({ 'x-portkey-virtual-key': 'openai-vk' }).embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'bb'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[1].embedding).toHaveLength(8);
    expect(res.data[1].embedding[0]).toBeCloseTo(0.2, 5);
  });

  it('lists models from the selected provider', async () => {
    const page = await client({ 'x-portkey-virtual-key': 'openai-vk' }).models.list();
    expect(page.data.map((m) => m.id)).toContain('gpt-4o-mini');
  });

  it('uses x-portkey-provider with the caller’s own provider key in Authorization', async () => {
    const sdk = new OpenAI({
      apiKey: OPENAI_SECRET,
      baseURL: `${h.gateway.url}/v1`,
      defaultHeaders: { 'x-portkey-api-key': API_KEY, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${h.openai.url}/v1` },
      maxRetries: 0,
    });
    const res = await sdk.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0].message.content).toBe('Hello from primary');
  });

  it('never forwards x-portkey-* headers or the gateway API key upstream', async () => {
    await client({ 'x-portkey-virtual-key': 'openai-vk', 'x-portkey-trace-id': 'trace-123', 'x-portkey-metadata': '{"a":"b"}' }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const seen = h.openai.control.requests[0];
    expect(Object.keys(seen.headers).filter((name) => name.startsWith('x-portkey-'))).toEqual([]);
    expect(JSON.stringify(seen.headers)).not.toContain(API_KEY);
    expect(JSON.stringify(seen.headers)).not.toContain('sk-caller-dummy');
    expect(seen.headers.connection).not.toBe('upgrade');
  });
});
