import { describe, expect, it } from 'vitest';
import { toAnthropicRequest } from '../../runtime/gateway/providers/anthropic-request.js';
import { fromAnthropicResponse } from '../../runtime/gateway/providers/anthropic-response.js';
import { anthropicStreamTransformer } from '../../runtime/gateway/providers/anthropic-stream.js';

describe('OpenAI → Anthropic request', () => {
  it('maps tool calls, tool results (merged into one user turn) and images', () => {
    const req = toAnthropicRequest({
      model: 'claude',
      max_completion_tokens: 50,
      user: 'u1',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'a', arguments: '{"x":1}' } }, { id: 't2', type: 'function', function: { name: 'b', arguments: 'not json' } }] },
        { role: 'tool', tool_call_id: 't1', content: 'one' },
        { role: 'tool', tool_call_id: 't2', content: 'two' },
      ],
      tool_choice: { type: 'function', function: { name: 'a' } },
      tools: [{ type: 'function', function: { name: 'a' } }],
    });
    expect(req.system).toBe('Be brief.');
    expect(req.max_tokens).toBe(50);
    expect(req.metadata).toEqual({ user_id: 'u1' });
    expect(req.tool_choice).toEqual({ type: 'tool', name: 'a' });
    expect(req.tools).toEqual([{ name: 'a', input_schema: { type: 'object', properties: {} } }]);
    expect(req.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'a', input: { x: 1 } }, { type: 'tool_use', id: 't2', name: 'b', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'one' }, { type: 'tool_result', tool_use_id: 't2', content: 'two' }] },
    ]);
  });
});

describe('Anthropic → OpenAI response', () => {
  it('maps max_tokens to length and counts cached input as prompt tokens', () => {
    const res = fromAnthropicResponse(
      { id: 'msg_1', model: 'claude', content: [{ type: 'text', text: 'hi' }], stop_reason: 'max_tokens', usage: { input_tokens: 3, output_tokens: 2, cache_read_input_tokens: 5 } },
      'asked',
    ) as any;
    expect(res.choices[0].finish_reason).toBe('length');
    expect(res.usage).toEqual({ prompt_tokens: 8, completion_tokens: 2, total_tokens: 10 });
  });
});

describe('Anthropic stream → OpenAI chunks', () => {
  it('turns an upstream error event into an SSE error and never a clean [DONE]', () => {
    const t = anthropicStreamTransformer({ model: 'claude', traceId: 't' });
    expect(t.onEvent({ data: JSON.stringify({ type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 1 } } }) })).toHaveLength(1);
    const [line] = t.onEvent({ data: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }) });
    expect(JSON.parse(line.slice(6))).toEqual({ error: { message: 'Overloaded', type: 'overloaded_error', param: null, code: null } });
    expect(t.onEnd()).toEqual([]);
  });

  it('ignores pings and unparseable data', () => {
    const t = anthropicStreamTransformer({ model: 'claude', traceId: 't' });
    expect(t.onEvent({ data: '{"type":"ping"}' })).toEqual([]);
    expect(t.onEvent({ data: 'garbage' })).toEqual([]);
    expect(t.onEnd().at(-1)).toBe('data: [DONE]\n\n');
  });
});
