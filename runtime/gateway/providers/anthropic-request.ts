import { HttpProblem } from '../../core/errors.js';

/**
 * OpenAI chat request → Anthropic Messages API request. Only the fields in ANTHROPIC_PARAMS reach
 * this (the pipeline 400s the rest, or drops them when strict_open_ai_compliance is false).
 */
type Json = Record<string, unknown>;

export const ANTHROPIC_PARAMS: ReadonlySet<string> = new Set([
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'top_k', 'stop', 'stream', 'stream_options',
  'tools', 'tool_choice', 'parallel_tool_calls', 'response_format', 'user', 'thinking',
]);

export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

interface OpenAIMessage {
  role: string;
  content?: unknown;
  tool_calls?: { id: string; function: { name: string; arguments?: string } }[];
  tool_call_id?: string;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (part && typeof part === 'object' && 'text' in part ? String(part.text) : '')).join('');
  }
  return '';
}

function imageBlock(url: string): Json {
  const dataUrl = /^data:([^;]+);base64,(.*)$/s.exec(url);
  return dataUrl
    ? { type: 'image', source: { type: 'base64', media_type: dataUrl[1], data: dataUrl[2] } }
    : { type: 'image', source: { type: 'url', url } };
}

function contentBlocks(content: unknown): Json[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) return [];
  const blocks: Json[] = [];
  for (const part of content as Json[]) {
    if (part?.type === 'text') blocks.push({ type: 'text', text: String(part.text ?? '') });
    else if (part?.type === 'image_url') {
      const image = part.image_url as { url?: string } | string | undefined;
      const url = typeof image === 'string' ? image : image?.url;
      if (url) blocks.push(imageBlock(url));
    }
  }
  return blocks;
}

function parseArguments(args: string | undefined): unknown {
  if (!args) return {};
  try {
    return JSON.parse(args);
  } catch {
    return {};
  }
}

function toAnthropicMessage(message: OpenAIMessage): Json {
  if (message.role === 'tool') {
    return {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: message.tool_call_id, content: textOf(message.content) }],
    };
  }
  const blocks = contentBlocks(message.content);
  if (message.role === 'assistant' && message.tool_calls?.length) {
    for (const call of message.tool_calls) {
      blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments) });
    }
  }
  return { role: message.role === 'assistant' ? 'assistant' : 'user', content: blocks };
}

/** Anthropic wants alternating turns; consecutive same-role turns (e.g. several tool results) are merged. */
function mergeTurns(messages: Json[]): Json[] {
  const merged: Json[] = [];
  for (const message of messages) {
    const last = merged[merged.length - 1];
    if (last && last.role === message.role) {
      last.content = [...(last.content as Json[]), ...(message.content as Json[])];
    } else merged.push({ ...message });
  }
  return merged;
}

/**
 * Structured outputs (`output_config.format`) take a JSON schema only: OpenAI's schema-less
 * `json_object` has no faithful equivalent, so it is refused rather than silently ignored.
 */
function outputFormat(format: unknown): Json | undefined {
  if (!format || typeof format !== 'object') return undefined;
  const f = format as { type?: string; json_schema?: { schema?: unknown } };
  if (f.type === 'text') return undefined;
  if (f.type === 'json_schema' && f.json_schema?.schema && typeof f.json_schema.schema === 'object') return { type: 'json_schema', schema: f.json_schema.schema };
  throw new HttpProblem(400, 'anthropic takes response_format { type: "json_schema", json_schema: { schema } } (structured outputs); json_object has no schema to send');
}

function toolChoice(choice: unknown): Json | undefined {
  if (choice === 'auto') return { type: 'auto' };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  if (choice && typeof choice === 'object') {
    const name = (choice as { function?: { name?: string } }).function?.name;
    if (name) return { type: 'tool', name };
  }
  return undefined;
}

export function toAnthropicRequest(body: Json): Json {
  const messages = (Array.isArray(body.messages) ? body.messages : []) as OpenAIMessage[];
  const system = messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => textOf(m.content))
    .join('\n');
  const request: Json = {
    model: body.model,
    max_tokens: body.max_tokens ?? body.max_completion_tokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages: mergeTurns(messages.filter((m) => m.role !== 'system' && m.role !== 'developer').map(toAnthropicMessage)),
  };
  if (system) request.system = system;
  if (body.stream === true) request.stream = true;
  if (typeof body.temperature === 'number') request.temperature = body.temperature;
  if (typeof body.top_p === 'number') request.top_p = body.top_p;
  if (typeof body.top_k === 'number') request.top_k = body.top_k;
  if (body.stop != null) request.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  if (typeof body.user === 'string') request.metadata = { user_id: body.user };
  if (Array.isArray(body.tools) && body.tools.length) {
    request.tools = (body.tools as { function: { name: string; description?: string; parameters?: unknown } }[]).map((t) => ({
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      input_schema: t.function.parameters ?? { type: 'object', properties: {} },
    }));
    let choice = toolChoice(body.tool_choice);
    if (body.parallel_tool_calls === false && choice?.type !== 'none') choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
    if (choice) request.tool_choice = choice;
  }
  const format = outputFormat(body.response_format);
  if (format) request.output_config = { format };
  if (body.thinking && typeof body.thinking === 'object') request.thinking = body.thinking;
  return request;
}
