/** Anthropic Messages API response → OpenAI chat completion (and the shared finish/usage mapping). */
type Json = Record<string, unknown>;

export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

const finishReasons: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

export function finishReason(stopReason: unknown): string | null {
  return typeof stopReason === 'string' ? (finishReasons[stopReason] ?? 'stop') : null;
}

/** Cached input is still input the caller sent, so it counts towards prompt_tokens. */
export function openAIUsage(usage: AnthropicUsage | undefined) {
  const prompt =
    (usage?.input_tokens ?? 0) + (usage?.cache_creation_input_tokens ?? 0) + (usage?.cache_read_input_tokens ?? 0);
  const completion = usage?.output_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function fromAnthropicResponse(body: unknown, model: string): Json {
  const message = (body ?? {}) as Json;
  const blocks = (Array.isArray(message.content) ? message.content : []) as Json[];
  const text = blocks.filter((b) => b.type === 'text').map((b) => String(b.text ?? '')).join('');
  const toolCalls = blocks
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } }));
  return {
    id: message.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: message.model ?? model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text || (toolCalls.length ? null : ''),
          refusal: null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(message.stop_reason),
      },
    ],
    usage: openAIUsage(message.usage as AnthropicUsage | undefined),
  };
}
