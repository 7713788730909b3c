import { Portkey, createHeaders } from 'portkey-ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, BACKUP_SECRET, OPENAI_SECRET, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

let h: GatewayHarness;
beforeAll(async () => {
  h = await startGatewayHarness();
});
afterAll(async () => h?.close());
beforeEach(() => {
  h.openai.control.reset();
  h.backup.control.reset();
});

const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Say hello.' }] };

describe('the portkey-ai SDK through the gateway', () => {
  it('chats with a virtual key', async () => {
    const portkey = new Portkey({ baseURL: `${h.gateway.url}/v1`, apiKey: API_KEY, virtualKey: 'openai-vk' });
    const res = await portkey.chat.completions.create(ask);
    expect(res.choices[0].message?.content).toBe('Hello from primary');
    expect(h.openai.control.requests[0].headers.authorization).toBe(`Bearer ${OPENAI_SECRET}`);
  });

  it('streams with a saved config slug (fallback from a 503 target)', async () => {
    h.openai.control.fail(503);
    const portkey = new Portkey({ baseURL: `${h.gateway.url}/v1`, apiKey: API_KEY, config: 'fallback-config' });
    const stream = await portkey.chat.completions.create({ ...ask, stream: true });
    let text = '';
    for await (const chunk of stream as AsyncIterable<{ choices: { delta?: { content?: string } }[] }>) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello from backup');
    expect(h.openai.control.requests).toHaveLength(1);
    expect(h.backup.control.requests[0].headers.authorization).toBe(`Bearer ${BACKUP_SECRET}`);
  });

  it('runs an inline config object and embeddings', async () => {
    const portkey = new Portkey({
      baseURL: `${h.gateway.url}/v1`,
      apiKey: API_KEY,
      config: { provider: 'openai', api_key: BACKUP_SECRET, custom_host: `${h.backup.url}/v1` },
    });
    const res = await portkey.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(res.data?.[0].embedding).toHaveLength(8);
    expect(h.backup.control.requests[0].path).toBe('/v1/embeddings');
  });

  it('works as headers for the openai SDK via createHeaders', async () => {
    const sdk = new OpenAI({
      apiKey: 'unused',
      baseURL: `${h.gateway.url}/v1`,
      defaultHeaders: createHeaders({ apiKey: API_KEY, virtualKey: 'backup-vk', traceID: 'trace-from-sdk' }),
      maxRetries: 0,
    });
    const { data, response } = await sdk.chat.completions.create(ask).withResponse();
    expect(data.choices[0].message.content).toBe('Hello from backup');
    expect(response.headers.get('x-portkey-trace-id')).toBe('trace-from-sdk');
    const seen = h.backup.control.requests[0].headers;
    expect(Object.keys(seen).some((k) => k.startsWith('x-portkey-'))).toBe(false);
  });
});
