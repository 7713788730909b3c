import type { Provider, StreamTransformer, TransformContext } from './types.js';

/** Cohere's v2 Chat API (`/v2/chat`) and v2 Embed behind OpenAI's formats, streaming included. */
type Json = Record<string, any>;

const COHERE_PARAMS: ReadonlySet<string> = new Set([
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'top_k', 'stop', 'seed', 'frequency_penalty', 'presence_penalty',
  'response_format', 'tools', 'tool_choice', 'stream', 'stream_options', 'user',
]);

function content(c: unknown): unknown {
  if (typeof c === 'string' || !Array.isArray(c)) return c ?? '';
  return (c as Json[]).map((p) => (p?.type === 'image_url' ? { type: 'image_url', image_url: { url: typeof p.image_url === 'string' ? p.image_url : p.image_url?.url } } : { type: 'text', text: String(p?.text ?? '') }));
}

export function toCohereRequest(body: Json): Json {
  const messages = ((body.messages ?? []) as Json[]).map((m) => {
    const role = m.role === 'developer' ? 'system' : m.role;
    if (role === 'tool') return { role: 'tool', tool_call_id: m.tool_call_id, content: typeof m.content === 'string' ? m.content : content(m.content) };
    const out: Json = { role, content: content(m.content) };
    if (role === 'assistant' && m.tool_calls?.length) {
      out.tool_calls = m.tool_calls.map((c: Json) => ({ id: c.id, type: 'function', function: { name: c.function?.name, arguments: c.function?.arguments ?? '{}' } }));
      if (!m.content) delete out.content;
    }
    return out;
  });
  const req: Json = { model: body.model, messages };
  if (body.stream === true) req.stream = true;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') req.max_tokens = maxTokens;
  if (typeof body.temperature === 'number') req.temperature = body.temperature;
  if (typeof body.top_p === 'number') req.p = body.top_p;
  if (typeof body.top_k === 'number') req.k = body.top_k;
  if (typeof body.seed === 'number') req.seed = body.seed;
  if (typeof body.frequency_penalty === 'number') req.frequency_penalty = body.frequency_penalty;
  if (typeof body.presence_penalty === 'number') req.presence_penalty = body.presence_penalty;
  if (body.stop != null) req.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  const format = body.response_format as Json | undefined;
  if (format?.type === 'json_object') req.response_format = { type: 'json_object' };
  else if (format?.type === 'json_schema') req.response_format = { type: 'json_object', ...(format.json_schema?.schema ? { json_schema: format.json_schema.schema } : {}) };
  if (Array.isArray(body.tools) && body.tools.length) {
    // Cohere cannot name the tool to call: a named tool_choice offers only that tool, required.
    const named: string | undefined = body.tool_choice?.function?.name;
    const tools = named ? (body.tools as Json[]).filter((t) => t.function?.name === named) : (body.tools as Json[]);
    req.tools = tools.map((t) => ({ type: 'function', function: { name: t.function?.name, description: t.function?.description, parameters: t.function?.parameters ?? { type: 'object', properties: {} } } }));
    if (body.tool_choice === 'required' || named) req.tool_choice = 'REQUIRED';
    else if (body.tool_choice === 'none') req.tool_choice = 'NONE';
  }
  return req;
}

const FINISH: Record<string, string> = { COMPLETE: 'stop', STOP_SEQUENCE: 'stop', MAX_TOKENS: 'length', TOOL_CALL: 'tool_calls', ERROR: 'stop', TIMEOUT: 'stop' };
const finish = (r: unknown) => (typeof r === 'string' ? (FINISH[r] ?? 'stop') : 'stop');

export function cohereUsage(usage: Json | undefined) {
  const tokens = usage?.tokens ?? usage?.billed_units ?? {};
  const prompt = tokens.input_tokens ?? 0;
  const completion = tokens.output_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function fromCohereResponse(body: unknown, ctx: TransformContext): Json {
  const res = (body ?? {}) as Json;
  const text = ((res.message?.content ?? []) as Json[]).filter((c) => c.type === 'text').map((c) => c.text).join('');
  const calls = ((res.message?.tool_calls ?? []) as Json[]).map((c) => ({ id: c.id, type: 'function', function: { name: c.function?.name, arguments: c.function?.arguments ?? '{}' } }));
  return {
    id: res.id ?? `chatcmpl-${ctx.traceId}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: ctx.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text || (calls.length ? null : ''), refusal: null, ...(calls.length ? { tool_calls: calls } : {}) }, logprobs: null, finish_reason: finish(res.finish_reason) }],
    usage: cohereUsage(res.usage),
  };
}

export function cohereStreamTransformer(ctx: TransformContext): StreamTransformer {
  let id = `chatcmpl-${ctx.traceId}`;
  const created = Math.floor(Date.now() / 1000);
  const model = ctx.model;
  let usage: Json | undefined;
  let failed = false;
  const chunk = (delta: Json, finishReason: string | null = null) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
  return {
    onEvent({ event, data }) {
      if (failed) return [];
      let ev: Json;
      try {
        ev = JSON.parse(data);
      } catch {
        return [];
      }
      const type = ev.type ?? event;
      const msg = ev.delta?.message ?? {};
      switch (type) {
        case 'message-start':
          if (ev.id) id = ev.id;
          return [chunk({ role: 'assistant', content: '' })];
        case 'content-delta':
          return typeof msg.content?.text === 'string' ? [chunk({ content: msg.content.text })] : [];
        case 'tool-call-start': {
          const call = msg.tool_calls ?? {};
          return [chunk({ tool_calls: [{ index: ev.index ?? 0, id: call.id, type: 'function', function: { name: call.function?.name, arguments: call.function?.arguments ?? '' } }] })];
        }
        case 'tool-call-delta':
          return [chunk({ tool_calls: [{ index: ev.index ?? 0, function: { arguments: msg.tool_calls?.function?.arguments ?? '' } }] })];
        case 'message-end':
          usage = ev.delta?.usage;
          if (ev.delta?.finish_reason === 'ERROR') {
            failed = true;
            return [`data: ${JSON.stringify({ error: { message: ev.delta?.error ?? 'upstream stream error', type: 'api_error', param: null, code: null } })}\n\n`];
          }
          return [chunk({}, finish(ev.delta?.finish_reason))];
        default:
          return [];
      }
    },
    onEnd() {
      if (failed) return [];
      return [`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: cohereUsage(usage) })}\n\n`, 'data: [DONE]\n\n'];
    },
  };
}

export const cohere: Provider = {
  id: 'cohere',
  defaultBaseUrl: 'https://api.cohere.com',
  endpoints: {
    chatComplete: {
      method: 'POST',
      path: '/v2/chat',
      transformRequest: (body) => toCohereRequest(body),
      transformResponse: fromCohereResponse,
      createStreamTransformer: cohereStreamTransformer,
      supportedParams: COHERE_PARAMS,
    },
    embed: {
      method: 'POST',
      path: '/v2/embed',
      transformRequest: (body) => ({
        model: body.model,
        texts: Array.isArray(body.input) ? body.input : [body.input],
        input_type: 'search_document',
        embedding_types: ['float'],
        ...(typeof body.dimensions === 'number' ? { output_dimension: body.dimensions } : {}),
      }),
      transformResponse: (body, ctx) => {
        const res = (body ?? {}) as Json;
        const vectors: number[][] = res.embeddings?.float ?? [];
        const tokens = res.meta?.billed_units?.input_tokens ?? 0;
        return { object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })), model: ctx.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
      },
      supportedParams: new Set(['model', 'input', 'dimensions', 'encoding_format', 'user']),
    },
  },
  authHeaders: (target) => ({ authorization: `Bearer ${target.apiKey}` }),
  transformError(_status, body) {
    const message = (body as { message?: string } | undefined)?.message;
    return message ? { message, type: 'api_error', code: null } : undefined;
  },
};
