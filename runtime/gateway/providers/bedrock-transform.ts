import { HttpProblem } from '../../core/errors.js';
import type { StreamTransformer, TransformContext } from './types.js';

/** OpenAI chat ⇄ Amazon Bedrock Converse / ConverseStream. */
type Json = Record<string, any>;

export const BEDROCK_PARAMS: ReadonlySet<string> = new Set([
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'stream', 'stream_options', 'tools', 'tool_choice', 'user',
  'response_format',
]);

/**
 * Converse structured outputs (`outputConfig.textFormat`) take a JSON schema, sent as a string;
 * OpenAI's schema-less `json_object` has no equivalent, so it is refused rather than ignored.
 */
function outputConfig(format: unknown): Json | undefined {
  if (!format || typeof format !== 'object') return undefined;
  const f = format as { type?: string; json_schema?: { name?: string; description?: string; schema?: unknown } };
  if (f.type === 'text') return undefined;
  if (f.type === 'json_schema' && f.json_schema?.schema && typeof f.json_schema.schema === 'object') {
    const { name, description, schema } = f.json_schema;
    return { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), ...(name ? { name } : {}), ...(description ? { description } : {}) } } } };
  }
  throw new HttpProblem(400, 'bedrock takes response_format { type: "json_schema", json_schema: { schema } } (Converse structured outputs); json_object has no schema to send');
}

const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === 'object' && 'text' in p ? String(p.text) : '')).join('');
  return '';
}

function blocks(content: unknown): Json[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  for (const part of content as Json[]) {
    if (part?.type === 'text' && part.text) out.push({ text: String(part.text) });
    else if (part?.type === 'image_url') {
      const url: string | undefined = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url;
      const data = url ? /^data:image\/([a-z]+);base64,(.*)$/s.exec(url) : null;
      if (!data) throw new HttpProblem(400, 'Bedrock takes images as base64 data URLs (data:image/png;base64,...), not links');
      const format = data[1] === 'jpg' ? 'jpeg' : data[1];
      if (!IMAGE_FORMATS.has(format)) throw new HttpProblem(400, `Bedrock does not take image/${data[1]}`);
      out.push({ image: { format, source: { bytes: data[2] } } });
    }
  }
  return out;
}

function parseArgs(args: unknown): Json {
  if (typeof args !== 'string' || !args) return {};
  try {
    return JSON.parse(args);
  } catch {
    return {};
  }
}

export function toConverseRequest(body: Json): Json {
  const messages: Json[] = Array.isArray(body.messages) ? body.messages : [];
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => ({ text: textOf(m.content) })).filter((b) => b.text);
  const turns: Json[] = [];
  for (const m of messages) {
    if (m.role === 'system' || m.role === 'developer') continue;
    let turn: Json;
    if (m.role === 'tool') turn = { role: 'user', content: [{ toolResult: { toolUseId: m.tool_call_id, content: [{ text: textOf(m.content) }] } }] };
    else if (m.role === 'assistant') {
      const content = blocks(m.content);
      for (const call of (m.tool_calls ?? []) as Json[]) content.push({ toolUse: { toolUseId: call.id, name: call.function?.name, input: parseArgs(call.function?.arguments) } });
      turn = { role: 'assistant', content };
    } else turn = { role: 'user', content: blocks(m.content) };
    const last = turns[turns.length - 1];
    if (last && last.role === turn.role) last.content.push(...turn.content);
    else turns.push(turn);
  }
  const request: Json = { messages: turns };
  if (system.length) request.system = system;
  const inference: Json = {};
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') inference.maxTokens = maxTokens;
  if (typeof body.temperature === 'number') inference.temperature = body.temperature;
  if (typeof body.top_p === 'number') inference.topP = body.top_p;
  if (body.stop != null) inference.stopSequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  if (Object.keys(inference).length) request.inferenceConfig = inference;
  const output = outputConfig(body.response_format);
  if (output) request.outputConfig = output;
  if (Array.isArray(body.tools) && body.tools.length && body.tool_choice !== 'none') {
    const toolConfig: Json = {
      tools: (body.tools as Json[]).map((t) => ({
        toolSpec: { name: t.function?.name, ...(t.function?.description ? { description: t.function.description } : {}), inputSchema: { json: t.function?.parameters ?? { type: 'object', properties: {} } } },
      })),
    };
    const choice = body.tool_choice;
    if (choice === 'auto') toolConfig.toolChoice = { auto: {} };
    else if (choice === 'required') toolConfig.toolChoice = { any: {} };
    else if (choice?.function?.name) toolConfig.toolChoice = { tool: { name: choice.function.name } };
    request.toolConfig = toolConfig;
  }
  return request;
}

const FINISH: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls', guardrail_intervened: 'content_filter', content_filtered: 'content_filter' };
const finish = (reason: unknown) => (typeof reason === 'string' ? (FINISH[reason] ?? 'stop') : 'stop');

export function converseUsage(usage: Json | undefined) {
  const prompt = (usage?.inputTokens ?? 0) + (usage?.cacheReadInputTokens ?? 0) + (usage?.cacheWriteInputTokens ?? 0);
  const completion = usage?.outputTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function fromConverseResponse(body: unknown, ctx: TransformContext): Json {
  const res = (body ?? {}) as Json;
  const content: Json[] = res.output?.message?.content ?? [];
  const text = content.filter((b) => typeof b.text === 'string').map((b) => b.text).join('');
  const calls = content.filter((b) => b.toolUse).map((b) => ({ id: b.toolUse.toolUseId, type: 'function', function: { name: b.toolUse.name, arguments: JSON.stringify(b.toolUse.input ?? {}) } }));
  return {
    id: `chatcmpl-${ctx.traceId}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: ctx.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text || (calls.length ? null : ''), refusal: null, ...(calls.length ? { tool_calls: calls } : {}) }, logprobs: null, finish_reason: finish(res.stopReason) }],
    usage: converseUsage(res.usage),
  };
}

export function converseStreamTransformer(ctx: TransformContext): StreamTransformer {
  const id = `chatcmpl-${ctx.traceId}`;
  const created = Math.floor(Date.now() / 1000);
  const model = ctx.model;
  let usage: Json | undefined;
  let failed = false;
  const toolIndex = new Map<number, number>();
  const chunk = (delta: Json, finishReason: string | null = null) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
  return {
    onEvent({ event, data }) {
      if (failed) return [];
      let payload: Json;
      try {
        payload = JSON.parse(data);
      } catch {
        payload = {};
      }
      if (event?.startsWith('exception:')) {
        failed = true;
        return [`data: ${JSON.stringify({ error: { message: payload.message ?? payload.Message ?? 'upstream stream error', type: 'api_error', param: null, code: event.slice(10) } })}\n\n`];
      }
      switch (event) {
        case 'messageStart':
          return [chunk({ role: 'assistant', content: '' })];
        case 'contentBlockStart': {
          const tool = payload.start?.toolUse;
          if (!tool) return [];
          const n = toolIndex.size;
          toolIndex.set(payload.contentBlockIndex, n);
          return [chunk({ tool_calls: [{ index: n, id: tool.toolUseId, type: 'function', function: { name: tool.name, arguments: '' } }] })];
        }
        case 'contentBlockDelta': {
          const delta = payload.delta ?? {};
          if (typeof delta.text === 'string') return [chunk({ content: delta.text })];
          if (delta.toolUse) return [chunk({ tool_calls: [{ index: toolIndex.get(payload.contentBlockIndex) ?? 0, function: { arguments: delta.toolUse.input ?? '' } }] })];
          return [];
        }
        case 'messageStop':
          return [chunk({}, finish(payload.stopReason))];
        case 'metadata':
          usage = payload.usage;
          return [];
        default:
          return [];
      }
    },
    onEnd() {
      if (failed) return [];
      return [`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: converseUsage(usage) })}\n\n`, 'data: [DONE]\n\n'];
    },
  };
}
