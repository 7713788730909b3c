import type { ServerResponse } from 'node:http';
import { countTokens, sendJson, startMockServer, type MockServer } from './mock-base.js';

/**
 * A local server speaking Cohere's v2 wire format: `POST /v2/chat` (JSON, and SSE with the named
 * events message-start, content-start/delta/end, tool-call-start/delta/end, message-end) and
 * `POST /v2/embed`, Bearer auth, errors as `{ message }`.
 */
export const COHERE_REPLY_TEXT = 'Hello from cohere-mock';

function cohereError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { id: 'err-mock', message });
}

export async function startMockCohere(opts: { apiKey?: string } = {}): Promise<MockServer> {
  return startMockServer(async (req, res, body, control) => {
    if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) return cohereError(res, 401, 'invalid api token');
    const failure = control.takeFailure();
    if (failure) return cohereError(res, failure, `mock failing with ${failure}`);
    const path = (req.url ?? '').split('?')[0];
    if (path === '/v2/embed') {
      const texts: string[] = body.texts ?? [];
      return sendJson(res, 200, { id: 'emb-mock', embeddings: { float: texts.map((t) => [t.length / 10, 0.5]) }, texts, meta: { api_version: { version: '2' }, billed_units: { input_tokens: texts.reduce((n, t) => n + countTokens(t), 0) } } });
    }
    if (path !== '/v2/chat') return cohereError(res, 404, 'not found');
    if (!body?.model || !Array.isArray(body.messages)) return cohereError(res, 400, 'invalid request: model and messages are required');
    if ('top_p' in body || 'max_completion_tokens' in body) return cohereError(res, 400, 'invalid request: unknown field');
    const input = countTokens(body.messages.map((m: any) => (typeof m.content === 'string' ? m.content : '')).join(' '));
    const tool = body.tools?.[0]?.function;
    const text = body.response_format?.type === 'json_object' ? '{"greeting":"hello"}' : COHERE_REPLY_TEXT;
    const usage = { billed_units: { input_tokens: input, output_tokens: countTokens(text) }, tokens: { input_tokens: input + 10, output_tokens: countTokens(text) } };
    const toolCall = tool ? { id: 'call_mock01', type: 'function', function: { name: tool.name, arguments: '{"city":"Paris"}' } } : undefined;
    if (!body.stream) {
      return sendJson(res, 200, {
        id: 'chat-mock01',
        finish_reason: tool ? 'TOOL_CALL' : 'COMPLETE',
        message: { role: 'assistant', ...(tool ? { tool_plan: 'I will call the tool.', tool_calls: [toolCall] } : { content: [{ type: 'text', text }] }) },
        usage,
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const events: object[] = [{ id: 'chat-mock01', type: 'message-start', delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } }];
    if (tool) {
      events.push(
        { type: 'tool-plan-delta', delta: { message: { tool_plan: 'I will call the tool.' } } },
        { type: 'tool-call-start', index: 0, delta: { message: { tool_calls: { id: 'call_mock01', type: 'function', function: { name: tool.name, arguments: '' } } } } },
        { type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: '{"city":' } } } } },
        { type: 'tool-call-delta', index: 0, delta: { message: { tool_calls: { function: { arguments: ' "Paris"}' } } } } },
        { type: 'tool-call-end', index: 0 },
      );
    } else {
      events.push({ type: 'content-start', index: 0, delta: { message: { content: { type: 'text', text: '' } } } });
      for (const piece of text.split(/(?= )/)) events.push({ type: 'content-delta', index: 0, delta: { message: { content: { text: piece } } } });
      events.push({ type: 'content-end', index: 0 });
    }
    events.push({ type: 'message-end', delta: { finish_reason: tool ? 'TOOL_CALL' : 'COMPLETE', usage } });
    for (let i = 0; i < events.length; i++) {
      if (i > 2) await control.betweenChunks(i - 2);
      if (res.destroyed) return;
      res.write(`event: ${(events[i] as { type: string }).type}\ndata: ${JSON.stringify(events[i])}\n\n`);
    }
    res.end();
  });
}
