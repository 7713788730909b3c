import type { StreamTransformer, TransformContext } from './types.js';
import { finishReason, openAIUsage, type AnthropicUsage } from './anthropic-response.js';

/**
 * Anthropic stream events → OpenAI `chat.completion.chunk` SSE lines, one upstream event at a time,
 * so the caller sees each token as soon as Anthropic sends it. Usage comes in a final chunk with
 * empty `choices` (as OpenAI's `stream_options.include_usage` does), then `data: [DONE]`.
 * An upstream `error` event becomes an SSE error line and the stream ends without `[DONE]`,
 * so a client never mistakes a failed stream for a complete one.
 */
export function anthropicStreamTransformer(ctx: TransformContext): StreamTransformer {
  let id = `chatcmpl-${ctx.traceId}`;
  let model = ctx.model;
  const created = Math.floor(Date.now() / 1000);
  const usage: AnthropicUsage = {};
  let failed = false;
  /** Anthropic's content-block index → OpenAI's tool_calls index. */
  const toolIndexByBlock = new Map<number, number>();

  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    })}\n\n`;

  return {
    onEvent({ data }) {
      if (failed) return [];
      let event: Record<string, any>;
      try {
        event = JSON.parse(data);
      } catch {
        return [];
      }
      switch (event.type) {
        case 'message_start': {
          const message = event.message ?? {};
          if (message.id) id = message.id;
          if (message.model) model = message.model;
          Object.assign(usage, message.usage ?? {});
          return [chunk({ role: 'assistant', content: '' })];
        }
        case 'content_block_start': {
          const block = event.content_block ?? {};
          if (block.type !== 'tool_use') return [];
          const toolIndex = toolIndexByBlock.size;
          toolIndexByBlock.set(event.index, toolIndex);
          return [
            chunk({
              tool_calls: [{ index: toolIndex, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }],
            }),
          ];
        }
        case 'content_block_delta': {
          const delta = event.delta ?? {};
          if (delta.type === 'text_delta') return [chunk({ content: delta.text })];
          if (delta.type === 'input_json_delta') {
            const toolIndex = toolIndexByBlock.get(event.index) ?? 0;
            return [chunk({ tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json } }] })];
          }
          return [];
        }
        case 'message_delta': {
          Object.assign(usage, event.usage ?? {});
          return [chunk({}, finishReason(event.delta?.stop_reason) ?? 'stop')];
        }
        case 'error': {
          failed = true;
          const error = event.error ?? {};
          const body = { error: { message: error.message ?? 'upstream stream error', type: error.type ?? 'api_error', param: null, code: null } };
          return [`data: ${JSON.stringify(body)}\n\n`];
        }
        default:
          return []; // ping, content_block_stop, message_stop
      }
    },
    onEnd() {
      if (failed) return [];
      const usageChunk = { id, object: 'chat.completion.chunk', created, model, choices: [], usage: openAIUsage(usage) };
      return [`data: ${JSON.stringify(usageChunk)}\n\n`, 'data: [DONE]\n\n'];
    },
  };
}
