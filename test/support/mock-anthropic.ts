import type { ServerResponse } from 'node:http';
import { countTokens, sendJson, startMockServer, type MockControl, type MockServer } from './mock-base.js';

/**
 * A local server speaking Anthropic's Messages API wire format: `x-api-key` + `anthropic-version`
 * auth, JSON replies and the named SSE events (message_start ... message_stop), tool_use when the
 * request offers tools, and Anthropic-shaped errors (`{ type: 'error', error: { type, message } }`).
 */
export interface MockAnthropicOptions {
  apiKey?: string;
}

export const ANTHROPIC_REPLY_TEXT = 'Hello from anthropic-mock';

const errorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

function anthropicError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { type: 'error', error: { type: errorTypes[status] ?? 'api_error', message } });
}

function inputTokens(body: any): number {
  const text = [body.system ?? '', ...(body.messages ?? []).map((m: any) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))].join(' ');
  return countTokens(text);
}

async function writeEvents(res: ServerResponse, events: object[], control: MockControl): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let contentIndex = 0;
  for (const event of events) {
    const type = (event as { type: string }).type;
    if (type === 'content_block_delta' && contentIndex++ > 0) {
      await control.betweenChunks(contentIndex - 1);
      if (control.streamErrorEvent) {
        // What Anthropic sends when it fails after the 200 (e.g. overloaded): an `error` event.
        res.end(`event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`);
        return;
      }
    }
    if (res.destroyed) return;
    res.write(`event: ${type}\ndata: ${JSON.stringify(event)}\n\n`);
  }
  res.end();
}

export async function startMockAnthropic(opts: MockAnthropicOptions = {}): Promise<MockServer> {
  return startMockServer(async (req, res, body, control) => {
    if (opts.apiKey && req.headers['x-api-key'] !== opts.apiKey) return anthropicError(res, 401, 'invalid x-api-key');
    if (!req.headers['anthropic-version']) return anthropicError(res, 400, 'anthropic-version: header is required');
    const failure = control.takeFailure();
    if (failure) return anthropicError(res, failure, `mock failing with ${failure}`);
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/v1/messages') return anthropicError(res, 404, 'Not found');
    if (typeof body?.max_tokens !== 'number') return anthropicError(res, 400, 'max_tokens: Field required');
    if (!Array.isArray(body.messages)) return anthropicError(res, 400, 'messages: Field required');
    // As the API does: a message that is not an object is a 400, not a crash of the server.
    const notObject = body.messages.findIndex((m: unknown) => !m || typeof m !== 'object' || Array.isArray(m));
    if (notObject >= 0) return anthropicError(res, 400, `messages.${notObject}: Input should be a valid dictionary`);
    if (body.messages.some((m: any) => m.role !== 'user' && m.role !== 'assistant')) {
      return anthropicError(res, 400, 'messages: roles must be "user" or "assistant"');
    }
    const id = `msg_${Math.random().toString(36).slice(2, 14)}`;
    const usage = { input_tokens: inputTokens(body), output_tokens: countTokens(ANTHROPIC_REPLY_TEXT) };
    const tool = Array.isArray(body.tools) && body.tools.length ? body.tools[0] : undefined;
    const content = tool
      ? [{ type: 'tool_use', id: 'toolu_mock01', name: tool.name, input: { city: 'Paris' } }]
      : [{ type: 'text', text: ANTHROPIC_REPLY_TEXT }];
    const stopReason = tool ? 'tool_use' : 'end_turn';
    if (!body.stream) {
      return sendJson(res, 200, { id, type: 'message', role: 'assistant', model: body.model, content, stop_reason: stopReason, stop_sequence: null, usage });
    }
    const events: object[] = [
      { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input_tokens, output_tokens: 1 } } },
    ];
    if (tool) {
      events.push(
        { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_mock01', name: tool.name, input: {} } },
        { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: ' "Paris"}' } },
      );
    } else {
      events.push({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, { type: 'ping' });
      for (const piece of ANTHROPIC_REPLY_TEXT.split(/(?= )/)) events.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
    }
    events.push(
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } },
      { type: 'message_stop' },
    );
    await writeEvents(res, events, control);
  });
}
