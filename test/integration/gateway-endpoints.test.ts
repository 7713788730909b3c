import Anthropic from '@anthropic-ai/sdk';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ANTHROPIC_REPLY_TEXT } from '../support/mock-anthropic.js';
import { API_KEY, ANTHROPIC_SECRET, OPENAI_SECRET, defaultSpec, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';
import type { MockServer } from '../support/mock-base.js';
import { BEDROCK_REPLY_TEXT, startMockBedrock } from '../support/mock-bedrock.js';
import { GEMINI_REPLY_TEXT, startMockGemini, type MockGemini } from '../support/mock-gemini.js';

const AWS = { accessKeyId: 'AKIAMOCKMESSAGES0001', secretAccessKey: 'messages/secret+key0123456789abcdef', region: 'us-west-2' };

let h: GatewayHarness;
let gemini: MockGemini;
let bedrock: MockServer;
const sdk = (vk: string) => new OpenAI({ apiKey: 'unused', baseURL: `${h.gateway.url}/v1`, defaultHeaders: { 'x-portkey-api-key': API_KEY, 'x-portkey-virtual-key': vk }, maxRetries: 0 });
const claude = (vk: string) => new Anthropic({ apiKey: 'unused', baseURL: h.gateway.url, defaultHeaders: { 'x-portkey-api-key': API_KEY, 'x-portkey-virtual-key': vk }, maxRetries: 0 });

beforeAll(async () => {
  gemini = await startMockGemini({ apiKey: 'gk' });
  bedrock = await startMockBedrock(AWS);
  h = await startGatewayHarness({
    spec: (m) => {
      const spec = defaultSpec(m);
      spec.virtualKeys!.push(
        { slug: 'gemini-vk', provider: 'google', secret: 'gk', options: { custom_host: `${gemini.url}/v1beta` } },
        { slug: 'bedrock-vk', provider: 'bedrock', secret: AWS.secretAccessKey, options: { custom_host: bedrock.url, aws_region: AWS.region, aws_access_key_id: AWS.accessKeyId } },
      );
      return spec;
    },
  });
});
afterAll(async () => {
  await h?.close();
  await gemini?.close();
  await bedrock?.close();
});
beforeEach(() => [h.openai, h.anthropic, gemini, bedrock].forEach((m) => m.control.reset()));

describe('OpenAI endpoints', () => {
  it('/v1/completions, JSON and streamed with usage', async () => {
    const res = await sdk('openai-vk').completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello' });
    expect(res.choices[0].text).toBe('Hello from primary');
    const stream = await sdk('openai-vk').completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello', stream: true });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello from primary');
    expect(usage).toMatchObject({ completion_tokens: 3 });
  });

  it('/v1/images/generations and /v1/responses', async () => {
    const image = await sdk('openai-vk').images.generate({ model: 'dall-e-3', prompt: 'a gate' });
    expect(image.data![0].url).toBe('https://images.example/mock.png');
    const response = await sdk('openai-vk').responses.create({ model: 'gpt-4o', input: 'hi' });
    expect(response.output_text).toBe('Hello from primary');
  });

  it('/v1/responses streams the Responses API events through untouched (no chat usage chunk, no [DONE] added)', async () => {
    const stream = await sdk('openai-vk').responses.create({ model: 'gpt-4o', input: 'hi', stream: true });
    let text = '';
    let completed: any;
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    expect(text).toBe('Hello from primary');
    expect(completed.usage).toMatchObject({ input_tokens: 3, output_tokens: 3 });
    const seen = h.openai.control.requests.at(-1)!;
    expect(seen.body.stream_options).toBeUndefined();
    const raw = await fetch(`${h.gateway.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-portkey-api-key': API_KEY, 'x-portkey-virtual-key': 'openai-vk' }, body: JSON.stringify({ model: 'gpt-4o', input: 'hi', stream: true }) });
    const body = await raw.text();
    expect(body).not.toContain('[DONE]');
    expect(body).not.toContain('chat.completion.chunk');
    expect(body.trim().split('\n\n').at(-1)).toContain('event: response.completed');
  });

  it('/v1/audio/speech returns the audio bytes; transcriptions and translations pass multipart through', async () => {
    const speech = await sdk('openai-vk').audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'hello' });
    expect(Buffer.from(await speech.arrayBuffer()).toString()).toBe('ID3mock-audio-bytes');
    const file = await toFile(Buffer.from('RIFF....WAVEfmt '), 'hello.wav', { type: 'audio/wav' });
    const transcription = await sdk('openai-vk').audio.transcriptions.create({ model: 'whisper-1', file });
    expect(transcription.text).toBe('transcribed by mock');
    const seen = h.openai.control.requests.at(-1)!;
    expect(String(seen.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.headers.authorization).toBe(`Bearer ${OPENAI_SECRET}`);
    const translation = await sdk('openai-vk').audio.translations.create({ model: 'whisper-1', file: await toFile(Buffer.from('x'), 'a.wav') });
    expect(translation.text).toBe('translated by mock');
  });

  it('400s an endpoint the provider does not serve', async () => {
    await expect(sdk('anthropic-vk').images.generate({ model: 'x', prompt: 'y' })).rejects.toMatchObject({ status: 400 });
  });
});

describe('catch-all /v1/* passthrough', () => {
  it('forwards any other path, method, query and body to the selected provider with its auth', async () => {
    const res = await fetch(`${h.gateway.url}/v1/moderations?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': API_KEY, 'x-portkey-virtual-key': 'openai-vk' },
      body: JSON.stringify({ input: 'hi' }),
    });
    expect(res.status).toBe(404); // the mock's own answer, relayed
    expect(((await res.json()) as any).error.message).toBe('Invalid URL (POST /v1/moderations)');
    const seen = h.openai.control.requests[0];
    expect(seen.path).toBe('/v1/moderations?x=1');
    expect(seen.body).toEqual({ input: 'hi' });
    expect(seen.headers.authorization).toBe(`Bearer ${OPENAI_SECRET}`);
    expect(seen.headers['x-portkey-api-key']).toBeUndefined();
    const noRoute = await fetch(`${h.gateway.url}/v1/moderations`, { method: 'POST', headers: { 'x-portkey-api-key': API_KEY } });
    expect(noRoute.status).toBe(404);
  });
});

describe('/v1/messages through @anthropic-ai/sdk', () => {
  it('passes through to Anthropic untouched', async () => {
    const msg = await claude('anthropic-vk').messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, system: 'Be terse.', messages: [{ role: 'user', content: 'Say hello.' }] });
    expect(msg.content[0]).toEqual({ type: 'text', text: ANTHROPIC_REPLY_TEXT });
    const seen = h.anthropic.control.requests[0];
    expect(seen.headers['x-api-key']).toBe(ANTHROPIC_SECRET);
    expect(seen.body).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 64, system: 'Be terse.', messages: [{ role: 'user', content: 'Say hello.' }] });
    const stream = claude('anthropic-vk').messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello.' }] });
    expect((await stream.finalMessage()).content[0]).toEqual({ type: 'text', text: ANTHROPIC_REPLY_TEXT });
  });

  it('relays a native Anthropic stream’s error event: the SDK raises it and the request is logged as failed', async () => {
    h.anthropic.control.streamErrorEvent = true;
    const traceId = `messages-error-${Date.now()}`;
    const stream = claude('anthropic-vk').messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello.' }] }, { headers: { 'x-portkey-trace-id': traceId } });
    const err = await stream.finalMessage().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err.message)).toContain('Overloaded');
    let record: any;
    for (let i = 0; i < 100 && !record; i++) {
      const line = (await h.readLogStore()).split('\n').find((l) => l.includes(`"trace_id":"${traceId}"`));
      if (line) record = JSON.parse(line).metrics;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(record).toMatchObject({ success: false, status: 502 });
  });

  it('translates to an OpenAI target and back, JSON and streamed', async () => {
    const msg = await claude('openai-vk').messages.create({ model: 'gpt-4o', max_tokens: 64, system: 'Be terse.', stop_sequences: ['END'], messages: [{ role: 'user', content: 'Say hello.' }] });
    expect(msg.type).toBe('message');
    expect(msg.content).toEqual([{ type: 'text', text: 'Hello from primary' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage).toMatchObject({ input_tokens: 4, output_tokens: 3 });
    expect(h.openai.control.requests[0].body).toEqual({ model: 'gpt-4o', max_tokens: 64, stop: ['END'], messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Say hello.' }] });
    const stream = claude('openai-vk').messages.stream({ model: 'gpt-4o', max_tokens: 64, messages: [{ role: 'user', content: 'Say hello.' }] });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas.join('')).toBe('Hello from primary');
    expect(final.content).toEqual([{ type: 'text', text: 'Hello from primary' }]);
    expect(final.usage.output_tokens).toBe(3);
  });

  it('translates output_config.format and disable_parallel_tool_use for non-Anthropic targets', async () => {
    const schema = { type: 'object', properties: { greeting: { type: 'string' } }, required: ['greeting'], additionalProperties: false };
    const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object', properties: {} } }];
    await claude('openai-vk').messages.create({
      model: 'gpt-4o',
      max_tokens: 64,
      tools,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      output_config: { format: { type: 'json_schema', schema } },
      messages: [{ role: 'user', content: 'Greet me.' }],
    });
    const sent = h.openai.control.requests[0].body;
    expect(sent.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema, strict: true } });
    expect(sent.parallel_tool_calls).toBe(false);
    expect(sent.tool_choice).toBe('auto');
    await claude('gemini-vk').messages.create({ model: 'gemini-2.0-flash', max_tokens: 64, output_config: { format: { type: 'json_schema', schema } }, messages: [{ role: 'user', content: 'Greet me.' }] });
    expect(gemini.control.requests[0].body.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('translates tools and tool results through a Gemini target', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
    const msg = await claude('gemini-vk').messages.create({ model: 'gemini-2.0-flash', max_tokens: 64, tools, messages: [{ role: 'user', content: 'Weather in Paris?' }] });
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });
    const followUp = await claude('gemini-vk').messages.create({
      model: 'gemini-2.0-flash',
      max_tokens: 64,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'tu1', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: '{"temp":21}' }] },
      ],
    });
    expect(followUp.content[0]).toEqual({ type: 'text', text: GEMINI_REPLY_TEXT });
    expect(gemini.control.requests[1].body.contents[2]).toEqual({ role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] });
    const stream = claude('gemini-vk').messages.stream({ model: 'gemini-2.0-flash', max_tokens: 64, tools, messages: [{ role: 'user', content: 'Weather?' }] });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });
  });

  it('translates to a Bedrock Converse target (SigV4, AWS event stream) and back, streamed too', async () => {
    const model = 'anthropic.claude-3-5-haiku-20241022-v1:0';
    const msg = await claude('bedrock-vk').messages.create({ model, max_tokens: 32, system: 'Be terse.', messages: [{ role: 'user', content: 'Say hello.' }] });
    expect(msg.content).toEqual([{ type: 'text', text: BEDROCK_REPLY_TEXT }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(bedrock.control.requests[0].body).toEqual({ messages: [{ role: 'user', content: [{ text: 'Say hello.' }] }], system: [{ text: 'Be terse.' }], inferenceConfig: { maxTokens: 32 } });
    const stream = claude('bedrock-vk').messages.stream({ model, max_tokens: 32, messages: [{ role: 'user', content: 'Say hello.' }] });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(BEDROCK_REPLY_TEXT);
    expect(final.usage).toMatchObject({ input_tokens: 2, output_tokens: 3 });
    expect(bedrock.control.requests[1].path).toContain('/converse-stream');
  });

  it('passes anthropic-beta and anthropic-version from x-portkey-anthropic-* headers', async () => {
    await claude('anthropic-vk').messages.create(
      { model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-portkey-anthropic-beta': 'context-1m-2025-08-07', 'x-portkey-anthropic-version': '2023-06-01' } },
    );
    const seen = h.anthropic.control.requests[0].headers;
    expect(seen['anthropic-beta']).toBe('context-1m-2025-08-07');
    expect(seen['anthropic-version']).toBe('2023-06-01');
    expect(seen['x-portkey-anthropic-beta']).toBeUndefined();
  });

  it('answers errors in Anthropic’s shape, so the SDK raises its typed errors', async () => {
    h.openai.control.fail(429, 1);
    const err = await claude('openai-vk').messages.create({ model: 'gpt-4o', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.error).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'mock primary failing with 429' } });
  });
});
