import type { EndpointSpec, StreamTransformer, TransformContext } from '../providers/types.js';

/**
 * `/v1/messages`: Anthropic's Messages format in, any provider out. Anthropic itself gets the body
 * untouched; every other provider gets it translated to OpenAI chat, run through that provider's
 * own chat transform, and the answer (JSON or stream) translated back to Anthropic's format, so the
 * official `@anthropic-ai/sdk` works against any target.
 */
type Json = Record<string, any>;

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b) => (b?.type === 'text' ? String(b.text ?? '') : '')).join('');
  return '';
}

function imageUrl(block: Json): string | undefined {
  const source = block.source ?? {};
  if (source.type === 'base64') return `data:${source.media_type};base64,${source.data}`;
  if (source.type === 'url') return source.url;
  return undefined;
}

/** Anthropic Messages request → OpenAI chat request. */
export function anthropicToOpenAI(body: Json, withTopK: boolean): Json {
  const messages: Json[] = [];
  const system = typeof body.system === 'string' ? body.system : textOf(body.system);
  if (system) messages.push({ role: 'system', content: system });
  for (const m of (Array.isArray(body.messages) ? body.messages : []) as Json[]) {
    if (typeof m.content === 'string') {
      messages.push({ role: m.role === 'assistant' ? 'assistant' : 'user', content: m.content });
      continue;
    }
    const blocks: Json[] = Array.isArray(m.content) ? m.content : [];
    if (m.role === 'assistant') {
      const text = blocks.filter((b) => b.type === 'text').map((b) => b.text).join('');
      const calls = blocks.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }));
      messages.push({ role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) });
      continue;
    }
    const parts: Json[] = [];
    for (const b of blocks) {
      if (b.type === 'tool_result') {
        messages.push({ role: 'tool', tool_call_id: b.tool_use_id, content: typeof b.content === 'string' ? b.content : textOf(b.content) });
      } else if (b.type === 'text') parts.push({ type: 'text', text: b.text });
      else if (b.type === 'image') {
        const url = imageUrl(b);
        if (url) parts.push({ type: 'image_url', image_url: { url } });
      }
    }
    if (parts.length) messages.push({ role: 'user', content: parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('') : parts });
  }
  const out: Json = { model: body.model, messages };
  if (typeof body.max_tokens === 'number') out.max_tokens = body.max_tokens;
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (withTopK && typeof body.top_k === 'number') out.top_k = body.top_k;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length) out.stop = body.stop_sequences;
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (typeof body.metadata?.user_id === 'string') out.user = body.metadata.user_id;
  if (Array.isArray(body.tools) && body.tools.length) {
    out.tools = (body.tools as Json[]).map((t) => ({ type: 'function', function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema ?? { type: 'object', properties: {} } } }));
    const choice = body.tool_choice as Json | undefined;
    if (choice?.type === 'auto') out.tool_choice = 'auto';
    else if (choice?.type === 'any') out.tool_choice = 'required';
    else if (choice?.type === 'none') out.tool_choice = 'none';
    else if (choice?.type === 'tool') out.tool_choice = { type: 'function', function: { name: choice.name } };
    if (choice?.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  }
  // Structured outputs: Anthropic's `output_config.format` is OpenAI's `response_format` json_schema.
  const format = body.output_config?.format;
  if (format?.type === 'json_schema' && format.schema && typeof format.schema === 'object') {
    out.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema, strict: true } };
  }
  return out;
}

const STOP: Record<string, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', function_call: 'tool_use', content_filter: 'refusal' };
const stopReason = (finish: unknown) => (typeof finish === 'string' ? (STOP[finish] ?? 'end_turn') : null);

function parseArgs(args: unknown): unknown {
  try {
    return typeof args === 'string' && args ? JSON.parse(args) : {};
  } catch {
    return {};
  }
}

const messageId = (id: unknown, ctx: TransformContext) => (typeof id === 'string' && id.startsWith('msg_') ? id : `msg_${ctx.traceId.replace(/-/g, '')}`);

/** OpenAI chat completion → Anthropic message. */
export function openAIToAnthropic(body: unknown, ctx: TransformContext): Json {
  const res = (body ?? {}) as Json;
  const choice = res.choices?.[0] ?? {};
  const message = choice.message ?? {};
  const content: Json[] = [];
  if (typeof message.content === 'string' && message.content) content.push({ type: 'text', text: message.content });
  for (const call of (message.tool_calls ?? []) as Json[]) content.push({ type: 'tool_use', id: call.id, name: call.function?.name, input: parseArgs(call.function?.arguments) });
  return {
    id: messageId(res.id, ctx),
    type: 'message',
    role: 'assistant',
    model: res.model ?? ctx.model,
    content,
    stop_reason: stopReason(choice.finish_reason) ?? 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: res.usage?.prompt_tokens ?? 0, output_tokens: res.usage?.completion_tokens ?? 0 },
  };
}

const sse = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/** OpenAI chat chunks (JSON strings) → Anthropic stream events. */
export function anthropicEventsFromOpenAI(ctx: TransformContext) {
  let started = false;
  let failed = false;
  let block: { index: number; kind: 'text' | 'tool' } | undefined;
  let nextIndex = 0;
  const toolBlocks = new Map<number, number>();
  let stop: string | null = null;
  const usage = { input_tokens: 0, output_tokens: 0 };
  const start = (id: unknown, model: unknown): string[] => {
    if (started) return [];
    started = true;
    return [sse('message_start', { message: { id: messageId(id, ctx), type: 'message', role: 'assistant', model: model ?? ctx.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } } })];
  };
  const close = (): string[] => {
    if (!block) return [];
    const out = [sse('content_block_stop', { index: block.index })];
    block = undefined;
    return out;
  };
  return {
    onChunk(data: string): string[] {
      if (failed || data === '[DONE]') return [];
      let chunk: Json;
      try {
        chunk = JSON.parse(data);
      } catch {
        return [];
      }
      if (chunk.error) {
        failed = true;
        return [sse('error', { error: { type: chunk.error.type === 'timeout_error' ? 'timeout_error' : 'api_error', message: chunk.error.message ?? 'upstream stream error' } })];
      }
      const out = start(chunk.id, chunk.model);
      if (chunk.usage) {
        usage.input_tokens = chunk.usage.prompt_tokens ?? usage.input_tokens;
        usage.output_tokens = chunk.usage.completion_tokens ?? usage.output_tokens;
      }
      const choice = chunk.choices?.[0];
      if (!choice) return out;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string' && delta.content) {
        if (block?.kind !== 'text') {
          out.push(...close());
          block = { index: nextIndex++, kind: 'text' };
          out.push(sse('content_block_start', { index: block.index, content_block: { type: 'text', text: '' } }));
        }
        out.push(sse('content_block_delta', { index: block.index, delta: { type: 'text_delta', text: delta.content } }));
      }
      for (const call of (delta.tool_calls ?? []) as Json[]) {
        const n = call.index ?? 0;
        if (!toolBlocks.has(n)) {
          out.push(...close());
          const index = nextIndex++;
          toolBlocks.set(n, index);
          block = { index, kind: 'tool' };
          out.push(sse('content_block_start', { index, content_block: { type: 'tool_use', id: call.id ?? `toolu_${index}`, name: call.function?.name ?? '', input: {} } }));
        }
        const args = call.function?.arguments;
        if (typeof args === 'string' && args) out.push(sse('content_block_delta', { index: toolBlocks.get(n)!, delta: { type: 'input_json_delta', partial_json: args } }));
      }
      if (choice.finish_reason) stop = stopReason(choice.finish_reason);
      return out;
    },
    onEnd(): string[] {
      if (failed) return [];
      return [
        ...start(undefined, undefined),
        ...close(),
        sse('message_delta', { delta: { stop_reason: stop ?? 'end_turn', stop_sequence: null }, usage: { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens } }),
        sse('message_stop', {}),
      ];
    },
  };
}

const ERROR_TYPES: Record<string, string> = { invalid_request_error: 'invalid_request_error', authentication_error: 'authentication_error', rate_limit_error: 'rate_limit_error', timeout_error: 'timeout_error' };

/** OpenAI error body → Anthropic's `{ type: 'error', error: { type, message } }`. */
export function anthropicErrorBody(body: unknown, status: number): Json {
  const error = (body as { error?: { message?: string; type?: string } } | undefined)?.error;
  const message = error?.message ?? (body as { message?: string } | undefined)?.message ?? `the upstream answered ${status}`;
  const type = ERROR_TYPES[error?.type ?? ''] ?? (status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : status === 404 ? 'not_found_error' : status < 500 ? 'invalid_request_error' : 'api_error');
  return { type: 'error', error: { type, message } };
}

const derived = new WeakMap<EndpointSpec, EndpointSpec>();

/** The `/v1/messages` spec for a provider that has only chat: Anthropic ⇄ OpenAI around its chat spec. */
export function messagesViaChat(chat: EndpointSpec): EndpointSpec {
  let spec = derived.get(chat);
  if (spec) return spec;
  const withTopK = chat.supportedParams?.has('top_k') ?? false;
  spec = {
    method: 'POST',
    path: chat.path,
    transformRequest: (body, target) => {
      let openai = anthropicToOpenAI(body, withTopK);
      if (chat.supportedParams) openai = Object.fromEntries(Object.entries(openai).filter(([k]) => chat.supportedParams!.has(k)));
      return chat.transformRequest ? chat.transformRequest(openai, target) : openai;
    },
    transformResponse: (body, ctx) => openAIToAnthropic(chat.transformResponse ? chat.transformResponse(body, ctx) : body, ctx),
    createStreamTransformer: (ctx): StreamTransformer => {
      const inner = chat.createStreamTransformer?.(ctx);
      const outer = anthropicEventsFromOpenAI(ctx);
      const pass = (lines: string[]) => lines.flatMap((line) => (line.startsWith('data: ') ? outer.onChunk(line.slice(6).trim()) : []));
      return {
        onEvent: (event) => (inner ? pass(inner.onEvent(event)) : outer.onChunk(event.data)),
        onEnd: () => [...(inner ? pass(inner.onEnd()) : []), ...outer.onEnd()],
      };
    },
    shapeError: anthropicErrorBody,
  };
  derived.set(chat, spec);
  return spec;
}

/** Native Anthropic: the body and the answer pass through; only errors the gateway makes are shaped. */
export const anthropicNativeMessages: EndpointSpec = { method: 'POST', path: '/messages', shapeError: anthropicErrorBody };
