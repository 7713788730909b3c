import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ANTHROPIC_REPLY_TEXT } from '../support/mock-anthropic.js';
import { ANTHROPIC_SECRET, API_KEY, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

let h: GatewayHarness;
let sdk: OpenAI;
beforeAll(async () => {
  h = await startGatewayHarness();
  sdk = new OpenAI({ apiKey: 'unused', baseURL: `${h.gateway.url}/v1`, defaultHeaders: { 'x-portkey-api-key': API_KEY, 'x-portkey-virtual-key': 'anthropic-vk' }, maxRetries: 0 });
});
afterAll(async () => h?.close());
beforeEach(() => h.anthropic.control.reset());

const messages: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello.' },
];

describe('OpenAI chat translated to Anthropic Messages', () => {
  it('sends the Messages API request with x-api-key, anthropic-version, system and a default max_tokens', async () => {
    const res = await sdk.chat.completions.create({ model: 'claude-sonnet-4-5', messages, temperature: 0.2, stop: 'END' });
    const seen = h.anthropic.control.requests[0];
    expect(seen.path).toBe('/v1/messages');
    expect(seen.headers['x-api-key']).toBe(ANTHROPIC_SECRET);
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: 'You are terse.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello.' }] }],
      temperature: 0.2,
      stop_sequences: ['END'],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0].message.content).toBe(ANTHROPIC_REPLY_TEXT);
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  });

  it('streams OpenAI chunks, a final usage chunk and [DONE]', async () => {
    const raw = await fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': API_KEY, 'x-portkey-virtual-key': 'anthropic-vk' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', messages, stream: true }),
    });
    expect(raw.headers.get('content-type')).toContain('text/event-stream');
    const lines = (await raw.text()).split('\n\n').filter(Boolean);
    expect(lines.at(-1)).toBe('data: [DONE]');
    const chunks = lines.slice(0, -1).map((l) => JSON.parse(l.slice('data: '.length)));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(ANTHROPIC_REPLY_TEXT);
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1).choices).toEqual([]);
    expect(chunks.at(-1).usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  });

  it('streams through the openai SDK', async () => {
    const stream = await sdk.chat.completions.create({ model: 'claude-sonnet-4-5', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(ANTHROPIC_REPLY_TEXT);
  });

  it('maps tools and tool calls both ways', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const res = await sdk.chat.completions.create({ model: 'claude-sonnet-4-5', messages, tools, tool_choice: 'required' });
    expect(h.anthropic.control.requests[0].body.tools).toEqual([
      { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    ]);
    expect(h.anthropic.control.requests[0].body.tool_choice).toEqual({ type: 'any' });
    expect(res.choices[0].finish_reason).toBe('tool_calls');
    const call = res.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });

    const stream = await sdk.chat.completions.create({ model: 'claude-sonnet-4-5', messages, tools, stream: true });
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      args += chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(JSON.parse(args)).toEqual({ city: 'Paris' });
    expect(finish).toBe('tool_calls');
  });

  it('maps images (data URL and link) and structured output (response_format json_schema → output_config.format)', async () => {
    const schema = { type: 'object', properties: { greeting: { type: 'string' } }, required: ['greeting'], additionalProperties: false };
    await sdk.chat.completions.create({
      model: 'claude-sonnet-4-5',
      response_format: { type: 'json_schema', json_schema: { name: 'greeting', schema } },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe these.' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://images.example/cat.jpg' } },
          ],
        },
      ],
    });
    const body = h.anthropic.control.requests[0].body;
    expect(body.messages[0].content).toEqual([
      { type: 'text', text: 'Describe these.' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://images.example/cat.jpg' } },
    ]);
    expect(body.output_config).toEqual({ format: { type: 'json_schema', schema } });
    expect(body.response_format).toBeUndefined();
    // json_object carries no schema for Claude's structured outputs: a clear 400, not a silent drop.
    const err = await sdk.chat.completions.create({ model: 'claude-sonnet-4-5', messages, response_format: { type: 'json_object' } }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(String(err.message)).toContain('json_schema');
  });

  it('sends parallel_tool_calls: false as disable_parallel_tool_use', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    await sdk.chat.completions.create({ model: 'claude-sonnet-4-5', messages, tools, parallel_tool_calls: false });
    expect(h.anthropic.control.requests[0].body.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });

  it('answers 400 for a field Anthropic does not take, unless strict_open_ai_compliance is false', async () => {
    const strict = await sdk.chat.completions.create({ model: 'claude-sonnet-4-5', messages, logit_bias: { '50256': -100 } }).catch((e) => e);
    expect(strict.status).toBe(400);
    expect(strict.error.param).toBe('logit_bias');
    expect(String(strict.message)).toContain('strict_open_ai_compliance');
    expect(h.anthropic.control.requests).toHaveLength(0);
    const lax = await sdk.chat.completions.create({ model: 'claude-sonnet-4-5', messages, logit_bias: { '50256': -100 } }, { headers: { 'x-portkey-strict-open-ai-compliance': 'false' } });
    expect(lax.choices[0].message.content).toBe(ANTHROPIC_REPLY_TEXT);
    expect(h.anthropic.control.requests[0].body.logit_bias).toBeUndefined();
  });

  it('returns Anthropic errors with their status in OpenAI’s error shape', async () => {
    h.anthropic.control.fail(429);
    const err = await sdk.chat.completions.create({ model: 'claude-sonnet-4-5', messages }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.error).toMatchObject({ message: 'mock failing with 429', type: 'rate_limit_error' });
  });

  it('refuses embeddings for anthropic with a 400', async () => {
    const err = await sdk.embeddings.create({ model: 'x', input: 'y' }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(String(err.message)).toContain('does not support');
  });
});
