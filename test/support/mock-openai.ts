import type { ServerResponse } from 'node:http';
import { countTokens, sendJson, startMockServer, type MockControl, type MockServer } from './mock-base.js';

/**
 * A local server speaking OpenAI's public wire format: chat completions (JSON and SSE, with
 * `stream_options.include_usage`), embeddings (float and base64, which the openai SDK asks for
 * by default), models, and OpenAI-shaped errors. Replies say which mock answered (`name`).
 */
export interface MockOpenAIOptions {
  name?: string;
  /** When set, requests without `Authorization: Bearer <apiKey>` get OpenAI's 401. */
  apiKey?: string;
  /**
   * Speak Azure OpenAI instead: `/openai/deployments/{deployment}/...?api-version=` paths, the key
   * in `api-key` (or an Entra token as `Authorization: Bearer`), and no `stream_options` before 2024-09.
   */
  azure?: { apiKey?: string; entraToken?: string };
  /** Ignores `stream_options.include_usage` (as some OpenAI-compatible servers do). */
  noStreamUsage?: boolean;
}

const errorTypes: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
};

function openAIError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const { type, code } = errorTypes[status] ?? { type: 'server_error', code: null };
  sendJson(res, status, { error: { message, type, param: null, code } }, headers);
}

function promptText(messages: { content?: unknown }[] = []): string {
  return messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? ''))).join(' ');
}

export function openAIReplyText(name: string): string {
  return `Hello from ${name}`;
}

async function chat(res: ServerResponse, body: any, control: MockControl, name: string, noStreamUsage = false): Promise<void> {
  const id = `chatcmpl-${Math.random().toString(36).slice(2, 12)}`;
  const created = Math.floor(Date.now() / 1000);
  const model = body.model;
  const text = openAIReplyText(name);
  const usage = {
    prompt_tokens: countTokens(promptText(body.messages)),
    completion_tokens: countTokens(text),
    total_tokens: countTokens(promptText(body.messages)) + countTokens(text),
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
  if (!body.stream) {
    return sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
      usage,
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
    });
  }
  const includeUsage = body.stream_options?.include_usage === true && !noStreamUsage;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const chunk = (delta: object, finish: string | null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: 'fp_mock',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const pieces = text.split(/(?= )/);
  const events: object[] = [
    chunk({ role: 'assistant', content: '', refusal: null }, null),
    ...pieces.map((piece) => chunk({ content: piece }, null)),
    chunk({}, 'stop'),
  ];
  if (includeUsage) events.push({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_mock', choices: [], usage });
  for (let i = 0; i < events.length; i++) {
    if (i > 1) {
      await control.betweenChunks(i - 1); // hold after the first content chunk, not the role chunk
      if (control.streamErrorEvent) {
        // OpenAI reports a failure after the 200 as an `error` object in a data line, then closes.
        res.end(`data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } })}\n\n`);
        return;
      }
    }
    if (res.destroyed) return;
    res.write(`data: ${JSON.stringify(events[i])}\n\n`);
  }
  res.end('data: [DONE]\n\n');
}

/** The Responses API stream: named events (`event:` + `data:` with a `type` and `sequence_number`), no `[DONE]`. */
async function responsesStream(res: ServerResponse, body: any, control: MockControl, name: string): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const text = openAIReplyText(name);
  const base = { id: 'resp_mock', object: 'response', created_at: Math.floor(Date.now() / 1000), model: body.model, output: [] as object[], usage: null as object | null };
  const item = { type: 'message', id: 'msg_mock', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
  const events: object[] = [
    { type: 'response.created', response: { ...base, status: 'in_progress' } },
    { type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress', content: [] } },
    { type: 'response.content_part.added', item_id: 'msg_mock', output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } },
    ...text.split(/(?= )/).map((delta) => ({ type: 'response.output_text.delta', item_id: 'msg_mock', output_index: 0, content_index: 0, delta })),
    { type: 'response.output_text.done', item_id: 'msg_mock', output_index: 0, content_index: 0, text },
    { type: 'response.output_item.done', output_index: 0, item },
    { type: 'response.completed', response: { ...base, status: 'completed', output: [item], usage: { input_tokens: 3, output_tokens: 3, total_tokens: 6 } } },
  ];
  for (let i = 0; i < events.length; i++) {
    if (i > 3) await control.betweenChunks(i - 3);
    if (res.destroyed) return;
    const event = { ...(events[i] as { type: string }), sequence_number: i };
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }
  res.end();
}

/** The legacy completions endpoint (JSON and SSE `text_completion` chunks). */
async function completions(res: ServerResponse, body: any, control: MockControl, name: string, noStreamUsage = false): Promise<void> {
  if (!body?.model || body.prompt === undefined) return openAIError(res, 400, "Missing required parameter: 'prompt'.");
  const id = `cmpl-${Math.random().toString(36).slice(2, 12)}`;
  const created = Math.floor(Date.now() / 1000);
  const text = openAIReplyText(name);
  const prompt = countTokens(String(body.prompt));
  const usage = { prompt_tokens: prompt, completion_tokens: countTokens(text), total_tokens: prompt + countTokens(text) };
  if (!body.stream) {
    return sendJson(res, 200, { id, object: 'text_completion', created, model: body.model, choices: [{ text, index: 0, logprobs: null, finish_reason: 'stop' }], usage });
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const pieces = text.split(/(?= )/);
  for (let i = 0; i < pieces.length; i++) {
    if (i > 0) await control.betweenChunks(i);
    if (res.destroyed) return;
    res.write(`data: ${JSON.stringify({ id, object: 'text_completion', created, model: body.model, choices: [{ text: pieces[i], index: 0, logprobs: null, finish_reason: i === pieces.length - 1 ? 'stop' : null }] })}\n\n`);
  }
  if (body.stream_options?.include_usage && !noStreamUsage) res.write(`data: ${JSON.stringify({ id, object: 'text_completion', created, model: body.model, choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}

function embedding(input: string, dims = 8): number[] {
  return Array.from({ length: dims }, (_, i) => ((input.length + i) % 10) / 10);
}

function embeddings(res: ServerResponse, body: any): void {
  const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
  const base64 = body.encoding_format === 'base64';
  const tokens = inputs.reduce((n, s) => n + countTokens(String(s)), 0);
  sendJson(res, 200, {
    object: 'list',
    data: inputs.map((input, index) => {
      const vector = embedding(String(input));
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector };
    }),
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

export async function startMockOpenAI(opts: MockOpenAIOptions = {}): Promise<MockServer> {
  const name = opts.name ?? 'openai-mock';
  return startMockServer(async (req, res, body, control) => {
    let path = (req.url ?? '').split('?')[0];
    if (opts.azure) {
      const ok = (opts.azure.apiKey && req.headers['api-key'] === opts.azure.apiKey) || (opts.azure.entraToken && req.headers.authorization === `Bearer ${opts.azure.entraToken}`);
      if (!ok) return openAIError(res, 401, 'Access denied due to invalid subscription key or wrong API endpoint.');
      const version = new URL(req.url ?? '/', 'http://mock').searchParams.get('api-version');
      if (!version) return openAIError(res, 404, 'Resource not found');
      const m = /^\/openai\/deployments\/([^/]+)(\/.*)$/.exec(path);
      // The Responses API is not per deployment: the deployment is the body's `model`.
      if (path === '/openai/responses' && typeof body?.model === 'string') path = '/v1/responses';
      else if (!m) return openAIError(res, 404, 'Resource not found');
      else {
        path = `/v1${m[2]}`;
        if (body && typeof body === 'object' && !body.model) body.model = decodeURIComponent(m[1]);
      }
    } else if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return openAIError(res, 401, 'Incorrect API key provided.');
    }
    const failure = control.takeFailure();
    if (failure) return openAIError(res, failure, `mock ${name} failing with ${failure}`, control.failHeaders);
    if (req.method === 'POST' && path === '/v1/completions') return completions(res, body, control, name, opts.noStreamUsage);
    if (req.method === 'POST' && path === '/v1/images/generations') {
      return sendJson(res, 200, { created: Math.floor(Date.now() / 1000), data: [{ url: 'https://images.example/mock.png', revised_prompt: body?.prompt }] });
    }
    if (req.method === 'POST' && path === '/v1/audio/speech') {
      const audio = Buffer.from('ID3mock-audio-bytes');
      res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': audio.length });
      return void res.end(audio);
    }
    if (req.method === 'POST' && (path === '/v1/audio/transcriptions' || path === '/v1/audio/translations')) {
      const type = String(req.headers['content-type'] ?? '');
      if (!type.startsWith('multipart/form-data; boundary=')) return openAIError(res, 400, 'expected multipart/form-data');
      const text = typeof body === 'string' ? body : '';
      if (!text.includes('name="file"')) return openAIError(res, 400, "Missing required parameter: 'file'.");
      return sendJson(res, 200, { text: path.endsWith('translations') ? 'translated by mock' : 'transcribed by mock' });
    }
    if (req.method === 'POST' && path === '/v1/responses' && body?.stream === true) return responsesStream(res, body, control, name);
    if (req.method === 'POST' && path === '/v1/responses') {
      return sendJson(res, 200, { id: 'resp_mock', object: 'response', status: 'completed', model: body?.model, output: [{ type: 'message', id: 'msg_mock', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: openAIReplyText(name), annotations: [] }] }], usage: { input_tokens: 3, output_tokens: 3, total_tokens: 6 } });
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      if (!body?.model || !Array.isArray(body.messages)) return openAIError(res, 400, "Missing required parameter: 'messages'.");
      // As OpenAI does: every message must be an object with a role.
      const bad = body.messages.findIndex((m: unknown) => !m || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string');
      if (bad !== -1) return openAIError(res, 400, `Invalid type for 'messages[${bad}]': expected an object with a 'role'.`);
      return chat(res, body, control, name, opts.noStreamUsage);
    }
    if (req.method === 'POST' && path === '/v1/embeddings') return embeddings(res, body);
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, {
        object: 'list',
        data: [
          { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' },
          { id: 'text-embedding-3-small', object: 'model', created: 1705948997, owned_by: 'system' },
        ],
      });
    }
    openAIError(res, 404, `Invalid URL (${req.method} ${path})`);
  });
}
