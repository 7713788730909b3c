import { HttpProblem } from '../../core/errors.js';
import type { StreamTransformer, TransformContext } from './types.js';

/**
 * OpenAI chat ⇄ Gemini `generateContent` (shared by the Gemini API and Vertex AI): messages →
 * `contents` + `systemInstruction`, tools → `functionDeclarations`, JSON mode → `responseMimeType`
 * (+ `responseSchema`), images → `inlineData` / `fileData`; candidates → choices, usageMetadata → usage.
 */
type Json = Record<string, any>;

export const GEMINI_PARAMS: ReadonlySet<string> = new Set([
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'top_k', 'n', 'stop', 'stream', 'stream_options',
  'presence_penalty', 'frequency_penalty', 'seed', 'response_format', 'tools', 'tool_choice', 'user',
]);

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === 'object' && 'text' in p ? String(p.text) : '')).join('');
  return '';
}

const MIME_BY_EXT: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', pdf: 'application/pdf' };

function imagePart(url: string): Json {
  const data = /^data:([^;]+);base64,(.*)$/s.exec(url);
  if (data) return { inlineData: { mimeType: data[1], data: data[2] } };
  const ext = /\.([a-z0-9]+)(?:\?|$)/i.exec(url)?.[1]?.toLowerCase() ?? '';
  return { fileData: { mimeType: MIME_BY_EXT[ext] ?? 'image/jpeg', fileUri: url } };
}

function parts(content: unknown): Json[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (!Array.isArray(content)) return [];
  const out: Json[] = [];
  for (const part of content as Json[]) {
    if (part?.type === 'text') out.push({ text: String(part.text ?? '') });
    else if (part?.type === 'image_url') {
      const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url;
      if (url) out.push(imagePart(url));
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

export function toGeminiRequest(body: Json): Json {
  const messages: Json[] = Array.isArray(body.messages) ? body.messages : [];
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => textOf(m.content)).join('\n');
  // tool_call_id → function name, since Gemini's functionResponse is keyed by name.
  const toolNames = new Map<string, string>();
  const contents: Json[] = [];
  for (const m of messages) {
    if (m.role === 'system' || m.role === 'developer') continue;
    let turn: Json;
    if (m.role === 'tool') {
      const raw = textOf(m.content);
      let response: unknown;
      try {
        response = JSON.parse(raw);
      } catch {
        response = raw;
      }
      turn = { role: 'user', parts: [{ functionResponse: { name: toolNames.get(m.tool_call_id) ?? m.name ?? 'tool', response: response && typeof response === 'object' && !Array.isArray(response) ? response : { content: response } } }] };
    } else if (m.role === 'assistant') {
      const ps = parts(m.content);
      for (const call of (m.tool_calls ?? []) as Json[]) {
        toolNames.set(call.id, call.function?.name);
        ps.push({ functionCall: { name: call.function?.name, args: parseArgs(call.function?.arguments) } });
      }
      turn = { role: 'model', parts: ps };
    } else turn = { role: 'user', parts: parts(m.content) };
    const last = contents[contents.length - 1];
    if (last && last.role === turn.role) last.parts.push(...turn.parts);
    else contents.push(turn);
  }
  const request: Json = { contents };
  if (system) request.systemInstruction = { parts: [{ text: system }] };
  const gen: Json = {};
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') gen.maxOutputTokens = maxTokens;
  if (typeof body.temperature === 'number') gen.temperature = body.temperature;
  if (typeof body.top_p === 'number') gen.topP = body.top_p;
  if (typeof body.top_k === 'number') gen.topK = body.top_k;
  if (typeof body.n === 'number') gen.candidateCount = body.n;
  if (typeof body.seed === 'number') gen.seed = body.seed;
  if (typeof body.presence_penalty === 'number') gen.presencePenalty = body.presence_penalty;
  if (typeof body.frequency_penalty === 'number') gen.frequencyPenalty = body.frequency_penalty;
  if (body.stop != null) gen.stopSequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  const format = body.response_format as Json | undefined;
  if (format?.type === 'json_object') gen.responseMimeType = 'application/json';
  else if (format?.type === 'json_schema') {
    gen.responseMimeType = 'application/json';
    if (format.json_schema?.schema) gen.responseJsonSchema = format.json_schema.schema;
  }
  if (Object.keys(gen).length) request.generationConfig = gen;
  if (Array.isArray(body.tools) && body.tools.length) {
    request.tools = [
      {
        functionDeclarations: (body.tools as Json[]).map((t) => {
          if (t.type && t.type !== 'function') throw new HttpProblem(400, `tools[].type "${t.type}" is not supported for Gemini`);
          return { name: t.function?.name, ...(t.function?.description ? { description: t.function.description } : {}), ...(t.function?.parameters ? { parameters: t.function.parameters } : {}) };
        }),
      },
    ];
    const choice = body.tool_choice;
    if (choice === 'auto') request.toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
    else if (choice === 'none') request.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
    else if (choice === 'required') request.toolConfig = { functionCallingConfig: { mode: 'ANY' } };
    else if (choice?.function?.name) request.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  }
  return request;
}

const FINISH: Record<string, string> = { STOP: 'stop', MAX_TOKENS: 'length', SAFETY: 'content_filter', RECITATION: 'content_filter', BLOCKLIST: 'content_filter', PROHIBITED_CONTENT: 'content_filter', SPII: 'content_filter', MALFORMED_FUNCTION_CALL: 'stop' };

function finish(reason: unknown, hasTools: boolean): string | null {
  if (typeof reason !== 'string' || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  return hasTools ? 'tool_calls' : (FINISH[reason] ?? 'stop');
}

export function geminiUsage(meta: Json | undefined) {
  const prompt = meta?.promptTokenCount ?? 0;
  const completion = (meta?.candidatesTokenCount ?? 0) + (meta?.thoughtsTokenCount ?? 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: meta?.totalTokenCount ?? prompt + completion };
}

function callId(traceId: string, candidate: number, i: number) {
  return `call_${traceId.replace(/-/g, '').slice(0, 16)}_${candidate}_${i}`;
}

export function fromGeminiResponse(body: unknown, ctx: TransformContext): Json {
  const res = (body ?? {}) as Json;
  const candidates: Json[] = Array.isArray(res.candidates) ? res.candidates : [];
  return {
    id: res.responseId ? `chatcmpl-${res.responseId}` : `chatcmpl-${ctx.traceId}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: res.modelVersion ?? ctx.model,
    choices: candidates.map((c, i) => {
      const ps: Json[] = c.content?.parts ?? [];
      const text = ps.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');
      const calls = ps.filter((p) => p.functionCall).map((p, j) => ({ id: callId(ctx.traceId, i, j), type: 'function', function: { name: p.functionCall.name, arguments: JSON.stringify(p.functionCall.args ?? {}) } }));
      return {
        index: c.index ?? i,
        message: { role: 'assistant', content: text || (calls.length ? null : ''), refusal: null, ...(calls.length ? { tool_calls: calls } : {}) },
        logprobs: null,
        finish_reason: finish(c.finishReason, calls.length > 0) ?? 'stop',
      };
    }),
    usage: geminiUsage(res.usageMetadata),
  };
}

/** Gemini's `alt=sse` stream: every event is a whole GenerateContentResponse holding the new parts. */
export function geminiStreamTransformer(ctx: TransformContext): StreamTransformer {
  let id = `chatcmpl-${ctx.traceId}`;
  let model = ctx.model;
  const created = Math.floor(Date.now() / 1000);
  let usage: Json | undefined;
  let started = false;
  let failed = false;
  let toolIndex = 0;
  const chunk = (index: number, delta: Json, finishReason: string | null = null) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
  return {
    onEvent({ data }) {
      if (failed) return [];
      let res: Json;
      try {
        res = JSON.parse(data);
      } catch {
        return [];
      }
      if (res.error) {
        failed = true;
        return [`data: ${JSON.stringify({ error: { message: res.error.message ?? 'upstream stream error', type: 'api_error', param: null, code: res.error.status ?? null } })}\n\n`];
      }
      if (res.responseId) id = `chatcmpl-${res.responseId}`;
      if (res.modelVersion) model = res.modelVersion;
      if (res.usageMetadata) usage = res.usageMetadata;
      const out: string[] = [];
      if (!started) {
        started = true;
        out.push(chunk(0, { role: 'assistant', content: '' }));
      }
      for (const [i, c] of ((res.candidates ?? []) as Json[]).entries()) {
        const index = c.index ?? i;
        let sawTool = false;
        for (const p of (c.content?.parts ?? []) as Json[]) {
          if (typeof p.text === 'string' && !p.thought && p.text) out.push(chunk(index, { content: p.text }));
          if (p.functionCall) {
            sawTool = true;
            const n = toolIndex++;
            out.push(chunk(index, { tool_calls: [{ index: n, id: callId(ctx.traceId, index, n), type: 'function', function: { name: p.functionCall.name, arguments: JSON.stringify(p.functionCall.args ?? {}) } }] }));
          }
        }
        const reason = finish(c.finishReason, sawTool || toolIndex > 0);
        if (reason) out.push(chunk(index, {}, reason));
      }
      return out;
    },
    onEnd() {
      if (failed) return [];
      return [`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: geminiUsage(usage) })}\n\n`, 'data: [DONE]\n\n'];
    },
  };
}

export function geminiError(_status: number, body: unknown) {
  const error = (body as { error?: { message?: string; status?: string } } | undefined)?.error;
  if (!error?.message) return undefined;
  return { message: error.message, type: error.status === 'INVALID_ARGUMENT' ? 'invalid_request_error' : 'api_error', code: error.status ?? null };
}

/** OpenAI embeddings ⇄ Gemini `batchEmbedContents`. */
export function toGeminiEmbedRequest(body: Json, modelPath: string): Json {
  const inputs: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
  if (inputs.some((i) => typeof i !== 'string')) throw new HttpProblem(400, 'Gemini embeddings take string inputs only');
  return {
    requests: inputs.map((text) => ({ model: modelPath, content: { parts: [{ text }] }, ...(typeof body.dimensions === 'number' ? { outputDimensionality: body.dimensions } : {}) })),
  };
}

export function fromGeminiEmbedResponse(body: unknown, ctx: TransformContext): Json {
  const embeddings: Json[] = (body as Json)?.embeddings ?? [];
  return { object: 'list', data: embeddings.map((e, index) => ({ object: 'embedding', index, embedding: e.values ?? [] })), model: ctx.model, usage: { prompt_tokens: 0, total_tokens: 0 } };
}
