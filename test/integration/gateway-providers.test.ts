import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, BACKUP_SECRET, defaultSpec, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';
import type { MockServer } from '../support/mock-base.js';
import { setDefaultCredentialChain } from '../../runtime/gateway/providers/bedrock.js';
import { BEDROCK_REPLY_TEXT, startMockBedrock } from '../support/mock-bedrock.js';
import { COHERE_REPLY_TEXT, startMockCohere } from '../support/mock-cohere.js';
import { GEMINI_REPLY_TEXT, startMockGemini, type MockGemini } from '../support/mock-gemini.js';
import { startMockOpenAI } from '../support/mock-openai.js';

const GEMINI_KEY = 'AIza-gemini-secret-0123456789';
const COHERE_KEY = 'co-secret-0123456789abcdef';
const AZURE_KEY = 'azure-secret-0123456789abcdef';
const AZURE_ENTRA = 'eyJ-entra-token-0123456789';
const AWS = { accessKeyId: 'AKIAMOCKACCESSKEY01', secretAccessKey: 'mock/secret+access+key0123456789abcdef', region: 'eu-west-1' };
const SA_EMAIL = 'tollgate@mock-project.iam.gserviceaccount.com';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SA_PRIVATE = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const SA_PUBLIC = publicKey.export({ type: 'spki', format: 'pem' }).toString();

let h: GatewayHarness;
let gemini: MockGemini;
let bedrock: MockServer;
let cohere: MockServer;
let azure: MockServer;
const mocks = () => [gemini, bedrock, cohere, azure, h.openai, h.backup];

beforeAll(async () => {
  gemini = await startMockGemini({ apiKey: GEMINI_KEY, servicePublicKey: SA_PUBLIC, serviceEmail: SA_EMAIL });
  bedrock = await startMockBedrock(AWS);
  cohere = await startMockCohere({ apiKey: COHERE_KEY });
  azure = await startMockOpenAI({ name: 'azure', azure: { apiKey: AZURE_KEY, entraToken: AZURE_ENTRA } });
  const serviceAccount = { type: 'service_account', project_id: 'mock-project', client_email: SA_EMAIL, private_key: SA_PRIVATE, private_key_id: 'kid1', token_uri: `${gemini.url}/token` };
  h = await startGatewayHarness({
    spec: (m) => {
      const spec = defaultSpec(m);
      spec.virtualKeys!.push(
        { slug: 'gemini-vk', provider: 'google', secret: GEMINI_KEY, options: { custom_host: `${gemini.url}/v1beta` } },
        { slug: 'vertex-vk', provider: 'vertex-ai', secret: 'unused', options: { custom_host: gemini.url, vertex_region: 'europe-west4', vertex_service_account_json: JSON.stringify(serviceAccount) } },
        { slug: 'bedrock-vk', provider: 'bedrock', secret: AWS.secretAccessKey, options: { custom_host: bedrock.url, aws_region: AWS.region, aws_access_key_id: AWS.accessKeyId } },
        { slug: 'cohere-vk', provider: 'cohere', secret: COHERE_KEY, options: { custom_host: cohere.url } },
        { slug: 'azure-vk', provider: 'azure-openai', secret: AZURE_KEY, options: { custom_host: azure.url, azure_deployment_id: 'gpt4o-prod', azure_api_version: '2024-10-21' } },
        { slug: 'azure-entra-vk', provider: 'azure-openai', secret: AZURE_ENTRA, options: { custom_host: azure.url, azure_deployment_id: 'gpt4o-entra', azure_auth_mode: 'entra' } },
      );
      return spec;
    },
  });
});
afterAll(async () => {
  await h?.close();
  await Promise.all([gemini?.close(), bedrock?.close(), cohere?.close(), azure?.close()]);
});
beforeEach(() => mocks().forEach((m) => m.control.reset()));

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello.' },
];
const TOOLS = [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];

async function chat(headers: Record<string, string>, body: object) {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-portkey-api-key': API_KEY, ...headers },
    body: JSON.stringify(body),
  });
  return { res, json: (await res.json()) as any };
}

async function stream(headers: Record<string, string>, body: object) {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-portkey-api-key': API_KEY, ...headers },
    body: JSON.stringify({ ...body, stream: true }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events = (await res.text()).split('\n\n').filter(Boolean);
  expect(events.at(-1)).toBe('data: [DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)));
  const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
  const usage = chunks.at(-1).usage;
  const toolCalls = chunks.flatMap((c) => c.choices?.[0]?.delta?.tool_calls ?? []);
  return { res, chunks, text, usage, toolCalls };
}

describe.each([
  ['mistral-ai', 'https://api.mistral.ai/v1'],
  ['groq', 'https://api.groq.com/openai/v1'],
  ['together-ai', 'https://api.together.xyz/v1'],
  ['fireworks-ai', 'https://api.fireworks.ai/inference/v1'],
  ['deepseek', 'https://api.deepseek.com'],
  ['openrouter', 'https://openrouter.ai/api/v1'],
  ['perplexity-ai', 'https://api.perplexity.ai'],
  ['x-ai', 'https://api.x.ai/v1'],
  ['ollama', 'http://localhost:11434/v1'],
  ['openai-compatible', ''],
])('OpenAI-compatible provider %s', (provider, defaultBase) => {
  const headers = () => ({ 'x-portkey-provider': provider, 'x-portkey-custom-host': `${h.backup.url}/v1`, authorization: `Bearer ${BACKUP_SECRET}` });

  it('passes chat through, JSON and streamed (with usage in the final chunk)', async () => {
    const { res, json } = await chat(headers(), { model: 'm', messages, response_format: { type: 'json_object' }, tools: TOOLS });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-portkey-provider')).toBe(provider);
    expect(json.choices[0].message.content).toBe('Hello from backup');
    const seen = h.backup.control.requests[0];
    expect(seen.headers.authorization).toBe(`Bearer ${BACKUP_SECRET}`);
    expect(seen.body.response_format).toEqual({ type: 'json_object' });
    const s = await stream(headers(), { model: 'm', messages });
    expect(s.text).toBe('Hello from backup');
    expect(s.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: 3 });
  });

  it('has its public base URL by default', async () => {
    const { getProvider } = await import('../../runtime/gateway/providers/index.js');
    const p = getProvider(provider)!;
    if (defaultBase) expect(p.defaultBaseUrl).toBe(defaultBase);
    else expect(() => p.baseUrl!({})).toThrow(/custom_host/);
  });
});

describe('openai', () => {
  it('takes the organisation and project from x-portkey-openai-* headers', async () => {
    const { res } = await chat({ 'x-portkey-virtual-key': 'openai-vk', 'x-portkey-openai-organization': 'org-mock123', 'x-portkey-openai-project': 'proj_mock456' }, { model: 'gpt-4o-mini', messages });
    expect(res.status).toBe(200);
    const seen = h.openai.control.requests[0].headers;
    expect(seen['openai-organization']).toBe('org-mock123');
    expect(seen['openai-project']).toBe('proj_mock456');
    expect(seen['x-portkey-openai-organization']).toBeUndefined();
  });
});

describe('azure-openai', () => {
  it('calls /openai/deployments/{deployment}/chat/completions?api-version with api-key', async () => {
    const { res, json } = await chat({ 'x-portkey-virtual-key': 'azure-vk' }, { model: 'gpt-4o', messages });
    expect(res.status).toBe(200);
    expect(json.choices[0].message.content).toBe('Hello from azure');
    const seen = azure.control.requests[0];
    expect(seen.path).toBe('/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21');
    expect(seen.headers['api-key']).toBe(AZURE_KEY);
    expect(seen.headers.authorization).toBeUndefined();
  });

  it('takes resource/deployment/version and an Entra token from x-portkey-azure-* headers, and streams', async () => {
    const headers = {
      'x-portkey-provider': 'azure-openai',
      'x-portkey-custom-host': azure.url,
      'x-portkey-azure-deployment-id': 'dep-2',
      'x-portkey-azure-api-version': '2025-01-01-preview',
      'x-portkey-azure-ad-token': AZURE_ENTRA,
    };
    const s = await stream(headers, { model: 'gpt-4o', messages });
    expect(s.text).toBe('Hello from azure');
    expect(s.usage.completion_tokens).toBe(3);
    const seen = azure.control.requests[0];
    expect(seen.path).toBe('/openai/deployments/dep-2/chat/completions?api-version=2025-01-01-preview');
    expect(seen.headers.authorization).toBe(`Bearer ${AZURE_ENTRA}`);
    expect(seen.body.stream_options).toEqual({ include_usage: true });
  });

  it('uses the virtual key’s secret as an Entra token (azure_auth_mode: entra) instead of an api-key', async () => {
    const { res } = await chat({ 'x-portkey-virtual-key': 'azure-entra-vk' }, { model: 'gpt-4o', messages });
    expect(res.status).toBe(200);
    const seen = azure.control.requests[0];
    expect(seen.path).toBe('/openai/deployments/gpt4o-entra/chat/completions?api-version=2024-10-21');
    expect(seen.headers.authorization).toBe(`Bearer ${AZURE_ENTRA}`);
    expect(seen.headers['api-key']).toBeUndefined();
  });

  it('serves /v1/responses at /openai/responses with the deployment as the model, streamed too', async () => {
    const sdk = new OpenAI({ apiKey: 'unused', baseURL: `${h.gateway.url}/v1`, defaultHeaders: { 'x-portkey-api-key': API_KEY, 'x-portkey-virtual-key': 'azure-entra-vk' }, maxRetries: 0 });
    const response = await sdk.responses.create({ model: 'gpt-4o', input: 'hi' });
    expect(response.output_text).toBe('Hello from azure');
    const seen = azure.control.requests[0];
    expect(seen.path).toBe('/openai/responses?api-version=2025-04-01-preview');
    expect(seen.body).toEqual({ model: 'gpt4o-entra', input: 'hi' });
    expect(seen.headers.authorization).toBe(`Bearer ${AZURE_ENTRA}`);
    let text = '';
    for await (const event of await sdk.responses.create({ model: 'gpt-4o', input: 'hi', stream: true })) if (event.type === 'response.output_text.delta') text += event.delta;
    expect(text).toBe('Hello from azure');
  });

  it('builds https://{resource}.openai.azure.com from the resource name and refuses a missing one', async () => {
    const { azureOpenAI } = await import('../../runtime/gateway/providers/azure-openai.js');
    expect(azureOpenAI.baseUrl!({ azure_resource_name: 'my-res' })).toBe('https://my-res.openai.azure.com');
    const { res, json } = await chat({ 'x-portkey-provider': 'azure-openai', authorization: 'Bearer k' }, { model: 'gpt-4o', messages });
    expect(res.status).toBe(400);
    expect(json.message).toContain('azure_resource_name');
  });
});

describe('google (Gemini API)', () => {
  const headers = { 'x-portkey-virtual-key': 'gemini-vk' };

  it('translates chat to generateContent and back', async () => {
    const { res, json } = await chat(headers, { model: 'gemini-2.0-flash', messages, temperature: 0.3, max_tokens: 50, stop: ['END'] });
    expect(res.status).toBe(200);
    const seen = gemini.control.requests[0];
    expect(seen.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(seen.headers['x-goog-api-key']).toBe(GEMINI_KEY);
    expect(seen.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }],
      systemInstruction: { parts: [{ text: 'You are terse.' }] },
      generationConfig: { maxOutputTokens: 50, temperature: 0.3, stopSequences: ['END'] },
    });
    expect(json.object).toBe('chat.completion');
    expect(json.choices[0].message.content).toBe(GEMINI_REPLY_TEXT);
    expect(json.choices[0].finish_reason).toBe('stop');
    expect(json.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  });

  it('maps tools, tool results, JSON mode and images both ways', async () => {
    const { json } = await chat(headers, { model: 'gemini-2.0-flash', messages, tools: TOOLS, tool_choice: 'required' });
    expect(json.choices[0].finish_reason).toBe('tool_calls');
    const call = json.choices[0].message.tool_calls[0];
    expect(call.function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(gemini.control.requests[0].body.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: 'Weather for a city', parameters: TOOLS[0].function.parameters }] }]);
    expect(gemini.control.requests[0].body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });

    await chat(headers, {
      model: 'gemini-2.0-flash',
      response_format: { type: 'json_object' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '{"temp":21}' },
      ],
    });
    const body = gemini.control.requests[1].body;
    expect(body.generationConfig).toEqual({ responseMimeType: 'application/json' });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'What is this?' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
    ]);
  });

  it('streams with alt=sse, usage in the final chunk', async () => {
    const s = await stream(headers, { model: 'gemini-2.0-flash', messages });
    expect(gemini.control.requests[0].path).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    expect(s.chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(s.text).toBe(GEMINI_REPLY_TEXT);
    expect(s.chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(s.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    const tools = await stream(headers, { model: 'gemini-2.0-flash', messages, tools: TOOLS });
    expect(tools.toolCalls[0].function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
  });

  it('answers 400 for an unsupported field unless strict_open_ai_compliance is false', async () => {
    const strict = await chat(headers, { model: 'gemini-2.0-flash', messages, logit_bias: { '1': 5 } });
    expect(strict.res.status).toBe(400);
    expect(strict.json.error.message).toContain('"logit_bias"');
    expect(strict.json.error.param).toBe('logit_bias');
    expect(gemini.control.requests).toHaveLength(0);
    const lax = await chat({ ...headers, 'x-portkey-strict-open-ai-compliance': 'false' }, { model: 'gemini-2.0-flash', messages, logit_bias: { '1': 5 } });
    expect(lax.res.status).toBe(200);
    const config = await chat({ 'x-portkey-config': JSON.stringify({ virtual_key: 'gemini-vk', strict_open_ai_compliance: false }) }, { model: 'gemini-2.0-flash', messages, logit_bias: {} });
    expect(config.res.status).toBe(200);
  });

  it('maps Google errors to OpenAI’s shape', async () => {
    gemini.control.fail(429, 1);
    const { res, json } = await chat(headers, { model: 'gemini-2.0-flash', messages });
    expect(res.status).toBe(429);
    expect(json.error).toMatchObject({ message: 'mock failing with 429', code: 'RESOURCE_EXHAUSTED' });
  });

  it('embeds with batchEmbedContents', async () => {
    const res = await fetch(`${h.gateway.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-portkey-api-key': API_KEY, ...headers }, body: JSON.stringify({ model: 'text-embedding-004', input: ['ab', 'abcd'] }) });
    const json = (await res.json()) as any;
    expect(json.data.map((d: any) => d.embedding[0])).toEqual([0.2, 0.4]);
    expect(gemini.control.requests[0].body.requests[0].model).toBe('models/text-embedding-004');
  });
});

describe('vertex-ai', () => {
  it('exchanges the service account JWT for an access token once, then reuses it', async () => {
    const before = gemini.tokenRequests;
    const { res, json } = await chat({ 'x-portkey-virtual-key': 'vertex-vk' }, { model: 'gemini-2.0-flash', messages });
    expect(res.status).toBe(200);
    expect(json.choices[0].message.content).toBe(GEMINI_REPLY_TEXT);
    expect(gemini.control.requests.at(-1)!.path).toBe('/v1/projects/mock-project/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent');
    const s = await stream({ 'x-portkey-virtual-key': 'vertex-vk' }, { model: 'gemini-2.0-flash', messages });
    expect(s.text).toBe(GEMINI_REPLY_TEXT);
    expect(gemini.control.requests.at(-1)!.path).toContain(':streamGenerateContent?alt=sse');
    expect(gemini.tokenRequests - before).toBe(1);
  });

  it('maps tools, JSON schema and images both ways, and 400s unsupported fields unless strict_open_ai_compliance is false', async () => {
    const vk = { 'x-portkey-virtual-key': 'vertex-vk' };
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    const { json } = await chat(vk, {
      model: 'gemini-2.0-flash',
      tools: TOOLS,
      response_format: { type: 'json_schema', json_schema: { name: 'c', schema } },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Where?' }, { type: 'image_url', image_url: { url: 'gs://bucket/photo.png' } }] }],
    });
    expect(json.choices[0].message.tool_calls[0].function).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    const body = gemini.control.requests.at(-1)!.body;
    expect(body.contents[0].parts).toEqual([{ text: 'Where?' }, { fileData: { mimeType: 'image/png', fileUri: 'gs://bucket/photo.png' } }]);
    expect(body.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
    expect(body.tools[0].functionDeclarations[0].name).toBe('get_weather');
    const strict = await chat(vk, { model: 'gemini-2.0-flash', messages, logprobs: true });
    expect(strict.res.status).toBe(400);
    expect(strict.json.error.param).toBe('logprobs');
    const lax = await chat({ ...vk, 'x-portkey-strict-open-ai-compliance': 'false' }, { model: 'gemini-2.0-flash', messages, logprobs: true });
    expect(lax.res.status).toBe(200);
  });

  it('exchanges again once the cached token is within a minute of expiry, and 401s a refused exchange without leaking the key', async () => {
    const shortLived = await startMockGemini({ servicePublicKey: SA_PUBLIC, serviceEmail: SA_EMAIL, tokenLifetimeSeconds: 30 });
    try {
      const account = (keyId: string, privateKey = SA_PRIVATE) => JSON.stringify({ type: 'service_account', project_id: 'p3', client_email: SA_EMAIL, private_key: privateKey, private_key_id: keyId, token_uri: `${shortLived.url}/token` });
      const headers = (sa: string) => ({ 'x-portkey-provider': 'vertex-ai', 'x-portkey-custom-host': shortLived.url, 'x-portkey-vertex-region': 'us-east5', 'x-portkey-vertex-service-account-json': sa });
      for (let i = 0; i < 2; i++) expect((await chat(headers(account('short')), { model: 'gemini-2.0-flash', messages })).res.status).toBe(200);
      expect(shortLived.tokenRequests).toBe(2); // a 30 s token is never reused: it is inside the one-minute margin
      const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const refused = await chat(headers(account('wrong', otherKey)), { model: 'gemini-2.0-flash', messages });
      expect(refused.res.status).toBe(401);
      expect(refused.json.error.message).toContain('token exchange failed');
      expect(JSON.stringify(refused.json)).not.toContain('PRIVATE KEY');
      expect(shortLived.control.requests.filter((r) => r.path.includes('generateContent'))).toHaveLength(2);
    } finally {
      await shortLived.close();
    }
  });

  it('takes the project and region from x-portkey-vertex-* headers with a bearer access token', async () => {
    const { res } = await chat(
      { 'x-portkey-provider': 'vertex-ai', 'x-portkey-custom-host': gemini.url, 'x-portkey-vertex-project-id': 'p2', 'x-portkey-vertex-region': 'us-east5', authorization: 'Bearer ya29.mock-access-token' },
      { model: 'gemini-2.0-flash', messages },
    );
    expect(res.status).toBe(200);
    expect(gemini.control.requests.at(-1)!.path).toContain('/projects/p2/locations/us-east5/');
  });
});

describe('bedrock (Converse)', () => {
  const headers = { 'x-portkey-virtual-key': 'bedrock-vk' };
  const model = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

  it('signs with SigV4 and translates to Converse and back', async () => {
    const { res, json } = await chat(headers, { model, messages, max_tokens: 100, temperature: 0.5 });
    expect(res.status).toBe(200);
    const seen = bedrock.control.requests[0];
    expect(seen.path).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    expect(seen.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAMOCKACCESSKEY01\/\d{8}\/eu-west-1\/bedrock\/aws4_request/);
    expect(seen.body).toEqual({ messages: [{ role: 'user', content: [{ text: 'Say hello.' }] }], system: [{ text: 'You are terse.' }], inferenceConfig: { maxTokens: 100, temperature: 0.5 } });
    expect(json.choices[0].message.content).toBe(BEDROCK_REPLY_TEXT);
    expect(json.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  });

  it('decodes ConverseStream event-stream frames, tools included', async () => {
    const s = await stream(headers, { model, messages });
    expect(bedrock.control.requests[0].path).toContain('/converse-stream');
    expect(s.text).toBe(BEDROCK_REPLY_TEXT);
    expect(s.chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(s.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    const t = await stream(headers, { model, messages, tools: TOOLS, tool_choice: 'auto' });
    expect(t.toolCalls[0]).toMatchObject({ id: 'tooluse_mock01', function: { name: 'get_weather' } });
    expect(t.toolCalls.map((c: any) => c.function.arguments).join('')).toBe('{"city": "Paris"}');
    expect(bedrock.control.requests[1].body.toolConfig).toEqual({ tools: [{ toolSpec: { name: 'get_weather', description: 'Weather for a city', inputSchema: { json: TOOLS[0].function.parameters } } }], toolChoice: { auto: {} } });
  });

  it('takes credentials from x-portkey-aws-* headers, and from the default chain when none are given', async () => {
    const viaHeaders = await chat(
      { 'x-portkey-provider': 'bedrock', 'x-portkey-custom-host': bedrock.url, 'x-portkey-aws-region': AWS.region, 'x-portkey-aws-access-key-id': AWS.accessKeyId, 'x-portkey-aws-secret-access-key': AWS.secretAccessKey },
      { model, messages },
    );
    expect(viaHeaders.res.status).toBe(200);
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = AWS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = AWS.secretAccessKey;
    try {
      const viaChain = await chat({ 'x-portkey-provider': 'bedrock', 'x-portkey-custom-host': bedrock.url, 'x-portkey-aws-region': AWS.region }, { model, messages });
      expect(viaChain.res.status).toBe(200);
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it('signs temporary credentials from x-portkey-aws-session-token (x-amz-security-token), and 403s without it', async () => {
    const temp = { accessKeyId: 'ASIAMOCKTEMPORARY001', secretAccessKey: 'temp/secret+key0123456789abcdef', sessionToken: 'FwoGZXIvYXdzEMOCKTEMP', region: 'ap-southeast-2' };
    const tempBedrock = await startMockBedrock(temp);
    try {
      const headers = { 'x-portkey-provider': 'bedrock', 'x-portkey-custom-host': tempBedrock.url, 'x-portkey-aws-region': temp.region, 'x-portkey-aws-access-key-id': temp.accessKeyId, 'x-portkey-aws-secret-access-key': temp.secretAccessKey };
      const ok = await chat({ ...headers, 'x-portkey-aws-session-token': temp.sessionToken }, { model, messages });
      expect(ok.res.status).toBe(200);
      expect(tempBedrock.control.requests[0].headers['x-amz-security-token']).toBe(temp.sessionToken);
      expect(tempBedrock.control.requests[0].headers.authorization).toContain('/ap-southeast-2/bedrock/aws4_request');
      const missing = await chat(headers, { model, messages });
      expect(missing.res.status).toBe(403);
    } finally {
      await tempBedrock.close();
    }
  });

  it('signs with the task role from the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI), fetched once and reused', async () => {
    const role = { accessKeyId: 'ASIAMOCKTASKROLE0001', secretAccessKey: 'task/role+secret0123456789abcdef', sessionToken: 'IQoJb3JpZ2luX2VjEMOCKSESSION', region: AWS.region };
    const taskBedrock = await startMockBedrock(role);
    const credentialCalls: (string | undefined)[] = [];
    const ecsAgent = createServer((req, res) => {
      credentialCalls.push(req.headers.authorization);
      if (req.url !== '/v2/credentials/task-role' || req.headers.authorization !== 'ecs-agent-token') return void res.writeHead(403).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ RoleArn: 'arn:aws:iam::123456789012:role/tollgate-task', AccessKeyId: role.accessKeyId, SecretAccessKey: role.secretAccessKey, Token: role.sessionToken, Expiration: new Date(Date.now() + 3600_000).toISOString() }));
    });
    await new Promise<void>((resolve) => ecsAgent.listen(0, '127.0.0.1', resolve));
    const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN'];
    const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
    for (const n of names) delete process.env[n];
    // No files on disk may answer first: the chain must reach the container provider.
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/tollgate-test/credentials';
    process.env.AWS_CONFIG_FILE = '/nonexistent/tollgate-test/config';
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${(ecsAgent.address() as AddressInfo).port}/v2/credentials/task-role`;
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'ecs-agent-token';
    setDefaultCredentialChain(undefined); // a fresh SDK default chain, reading the environment above
    try {
      const headers = { 'x-portkey-provider': 'bedrock', 'x-portkey-custom-host': taskBedrock.url, 'x-portkey-aws-region': AWS.region };
      const first = await chat(headers, { model, messages });
      expect(first.res.status).toBe(200);
      expect(first.json.choices[0].message.content).toBe(BEDROCK_REPLY_TEXT);
      const seen = taskBedrock.control.requests[0];
      expect(seen.headers.authorization).toContain(`Credential=${role.accessKeyId}/`);
      expect(seen.headers['x-amz-security-token']).toBe(role.sessionToken);
      const streamed = await stream(headers, { model, messages });
      expect(streamed.text).toBe(BEDROCK_REPLY_TEXT);
      expect(credentialCalls).toEqual(['ecs-agent-token']);
    } finally {
      for (const n of names) {
        if (saved[n] === undefined) delete process.env[n];
        else process.env[n] = saved[n];
      }
      setDefaultCredentialChain(undefined);
      await new Promise((resolve) => ecsAgent.close(resolve));
      await taskBedrock.close();
    }
  });

  it('assumes a virtual key\'s aws_role_arn through STS (signed with the base credentials, external id sent, cached) and signs Bedrock with the role', async () => {
    const role = { accessKeyId: 'ASIAMOCKASSUMEDROLE1', secretAccessKey: 'assumed/role+secret0123456789abcdef', sessionToken: 'IQoJMOCKASSUMEDSESSION', region: AWS.region };
    const roleArn = 'arn:aws:iam::210987654321:role/bedrock-cross-account';
    const roleBedrock = await startMockBedrock(role);
    const stsCalls: { authorization?: string; form: URLSearchParams }[] = [];
    const sts = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const form = new URLSearchParams(raw);
        stsCalls.push({ authorization: req.headers.authorization, form });
        res.writeHead(form.get('ExternalId') === 'tenant-42' ? 200 : 403, { 'content-type': 'text/xml' });
        if (form.get('ExternalId') !== 'tenant-42') return void res.end('<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error></ErrorResponse>');
        const expiration = new Date(Date.now() + 3600_000).toISOString();
        res.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${role.accessKeyId}</AccessKeyId><SecretAccessKey>${role.secretAccessKey}</SecretAccessKey><SessionToken>${role.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>${roleArn}/tollgate-gateway</Arn><AssumedRoleId>AROAMOCK:tollgate-gateway</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`);
      });
    });
    await new Promise<void>((resolve) => sts.listen(0, '127.0.0.1', resolve));
    const savedEndpoint = process.env.AWS_ENDPOINT_URL_STS;
    process.env.AWS_ENDPOINT_URL_STS = `http://127.0.0.1:${(sts.address() as AddressInfo).port}`;
    try {
      const base = { 'x-portkey-provider': 'bedrock', 'x-portkey-custom-host': roleBedrock.url, 'x-portkey-aws-region': AWS.region, 'x-portkey-aws-access-key-id': AWS.accessKeyId, 'x-portkey-aws-secret-access-key': AWS.secretAccessKey, 'x-portkey-aws-role-arn': roleArn };
      const headers = { ...base, 'x-portkey-aws-external-id': 'tenant-42' };
      const first = await chat(headers, { model, messages });
      expect(first.res.status).toBe(200);
      expect(first.json.choices[0].message.content).toBe(BEDROCK_REPLY_TEXT);
      const seen = roleBedrock.control.requests[0];
      expect(seen.headers.authorization).toContain(`Credential=${role.accessKeyId}/`);
      expect(seen.headers['x-amz-security-token']).toBe(role.sessionToken);
      expect(stsCalls).toHaveLength(1);
      expect(stsCalls[0].authorization).toContain(`Credential=${AWS.accessKeyId}/`);
      expect(stsCalls[0].authorization).toContain(`/${AWS.region}/sts/aws4_request`);
      expect(Object.fromEntries(stsCalls[0].form)).toMatchObject({ Action: 'AssumeRole', RoleArn: roleArn, ExternalId: 'tenant-42' });
      // Streamed, and a second call: the assumed credentials are reused, STS is not asked again.
      expect((await stream(headers, { model, messages })).text).toBe(BEDROCK_REPLY_TEXT);
      expect(stsCalls).toHaveLength(1);
      // A trust policy that refuses (wrong external id) is a clear 403 naming the role, with no secret in it.
      const refused = await chat({ ...base, 'x-portkey-aws-external-id': 'someone-else' }, { model, messages });
      expect(refused.res.status).toBe(403);
      expect(JSON.stringify(refused.json)).toContain(roleArn);
      expect(JSON.stringify(refused.json)).toContain('AccessDenied');
      expect(JSON.stringify(refused.json)).not.toContain(AWS.secretAccessKey);
    } finally {
      if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
      else process.env.AWS_ENDPOINT_URL_STS = savedEndpoint;
      await new Promise((resolve) => sts.close(resolve));
      await roleBedrock.close();
    }
  });

  it('maps response_format json_schema to Converse structured outputs (outputConfig.textFormat)', async () => {
    const schema = { type: 'object', properties: { greeting: { type: 'string' } }, required: ['greeting'], additionalProperties: false };
    const { res, json } = await chat(headers, { model, messages, response_format: { type: 'json_schema', json_schema: { name: 'greeting', schema } } });
    expect(res.status).toBe(200);
    expect(JSON.parse(json.choices[0].message.content)).toEqual({ greeting: 'hello' });
    const sent = bedrock.control.requests[0].body.outputConfig;
    expect(sent).toEqual({ textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'greeting', schema: expect.any(String) } } } });
    expect(JSON.parse(sent.textFormat.structure.jsonSchema.schema)).toEqual(schema);
  });

  it('maps base64 images in messages to Converse image blocks', async () => {
    await chat(headers, { model, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/4AAQ' } }] }] });
    expect(bedrock.control.requests[0].body.messages[0].content).toEqual([{ text: 'What is it?' }, { image: { format: 'jpeg', source: { bytes: '/9j/4AAQ' } } }]);
    const tiff = await chat(headers, { model, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/tiff;base64,AAAA' } }] }] });
    expect(tiff.res.status).toBe(400);
    expect(tiff.json.error.message).toContain('image/tiff');
  });

  it('maps AWS errors and refuses unsupported fields and image links', async () => {
    const wrong = await chat({ 'x-portkey-provider': 'bedrock', 'x-portkey-custom-host': bedrock.url, 'x-portkey-aws-region': AWS.region, 'x-portkey-aws-access-key-id': AWS.accessKeyId, 'x-portkey-aws-secret-access-key': 'wrong' }, { model, messages });
    expect(wrong.res.status).toBe(403);
    expect(wrong.json.error.message).toContain('signature');
    const unsupported = await chat(headers, { model, messages, logprobs: true });
    expect(unsupported.res.status).toBe(400);
    expect(unsupported.json.error.param).toBe('logprobs');
    const lax = await chat({ ...headers, 'x-portkey-strict-open-ai-compliance': 'false' }, { model, messages, logprobs: true });
    expect(lax.res.status).toBe(200);
    const json = await chat(headers, { model, messages, response_format: { type: 'json_object' } });
    expect(json.res.status).toBe(400);
    expect(json.json.error.message).toContain('json_schema');
    const link = await chat(headers, { model, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x.example/a.png' } }] }] });
    expect(link.res.status).toBe(400);
    expect(JSON.stringify(link.json)).toContain('base64');
  });
});

describe('cohere (v2 chat)', () => {
  const headers = { 'x-portkey-virtual-key': 'cohere-vk' };

  it('translates chat, tools and JSON mode', async () => {
    const { json } = await chat(headers, { model: 'command-r-plus', messages, top_p: 0.5, response_format: { type: 'json_object' } });
    expect(cohere.control.requests[0].body).toMatchObject({ model: 'command-r-plus', p: 0.5, response_format: { type: 'json_object' }, messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello.' }] });
    expect(json.choices[0].message.content).toBe('{"greeting":"hello"}');
    expect(json.usage).toEqual({ prompt_tokens: 15, completion_tokens: 1, total_tokens: 16 });
    const tools = await chat(headers, { model: 'command-r-plus', messages, tools: TOOLS });
    expect(tools.json.choices[0].finish_reason).toBe('tool_calls');
    expect(tools.json.choices[0].message.tool_calls[0]).toEqual({ id: 'call_mock01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
  });

  it('maps images, tool history and json_schema to v2 chat', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    const { res } = await chat(headers, {
      model: 'command-a-vision',
      response_format: { type: 'json_schema', json_schema: { name: 'c', schema } },
      tools: TOOLS,
      tool_choice: 'required',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Where is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '{"temp":21}' },
      ],
    });
    expect(res.status).toBe(200);
    const body = cohere.control.requests[0].body;
    expect(body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Where is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
      { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '{"temp":21}' },
    ]);
    expect(body.response_format).toEqual({ type: 'json_object', json_schema: schema });
    expect(body.tool_choice).toBe('REQUIRED');
    // A named tool: Cohere cannot name one, so only that tool is offered, and it is required.
    const other = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
    await chat(headers, { model: 'command-r-plus', messages, tools: [other, ...TOOLS], tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    expect(cohere.control.requests[1].body.tools.map((t: any) => t.function.name)).toEqual(['get_weather']);
    expect(cohere.control.requests[1].body.tool_choice).toBe('REQUIRED');
  });

  it('answers 400 for an unsupported field unless strict_open_ai_compliance is false', async () => {
    const strict = await chat(headers, { model: 'command-r-plus', messages, logprobs: true });
    expect(strict.res.status).toBe(400);
    expect(strict.json.error.param).toBe('logprobs');
    expect(cohere.control.requests).toHaveLength(0);
    const lax = await chat({ ...headers, 'x-portkey-strict-open-ai-compliance': 'false' }, { model: 'command-r-plus', messages, logprobs: true });
    expect(lax.res.status).toBe(200);
    expect(cohere.control.requests[0].body.logprobs).toBeUndefined();
  });

  it('streams the v2 events as OpenAI chunks', async () => {
    const s = await stream(headers, { model: 'command-r-plus', messages });
    expect(s.text).toBe(COHERE_REPLY_TEXT);
    expect(s.usage).toEqual({ prompt_tokens: 15, completion_tokens: 3, total_tokens: 18 });
    const t = await stream(headers, { model: 'command-r-plus', messages, tools: TOOLS });
    expect(t.toolCalls.map((c: any) => c.function.arguments).join('')).toBe('{"city": "Paris"}');
  });

  it('works through the openai SDK', async () => {
    const sdk = new OpenAI({ apiKey: 'unused', baseURL: `${h.gateway.url}/v1`, defaultHeaders: { 'x-portkey-api-key': API_KEY, ...headers }, maxRetries: 0 });
    const res = await sdk.chat.completions.create({ model: 'command-r-plus', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0].message.content).toBe(COHERE_REPLY_TEXT);
    const emb = await sdk.embeddings.create({ model: 'embed-v4.0', input: 'abc', encoding_format: 'float' });
    expect(emb.data[0].embedding).toEqual([0.3, 0.5]);
  });
});
