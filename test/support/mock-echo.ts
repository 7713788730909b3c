import { startMockServer, type MockServer } from './mock-base.js';

/** An OpenAI-compatible upstream that answers with the last user message, so output checks see what a test chooses. */
export async function startEcho(): Promise<MockServer> {
  return startMockServer((_req, res, body, control) => {
    const failure = control.takeFailure();
    if (failure) {
      res.writeHead(failure, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { message: 'echo failure', type: 'server_error', code: null } }));
    }
    const last = body?.messages?.[body.messages.length - 1]?.content ?? '';
    const text = `echo: ${typeof last === 'string' ? last : JSON.stringify(last)}`;
    const base = { id: 'chatcmpl-echo', created: 1, model: body?.model ?? 'm' };
    if (!body?.stream) {
      const payload = JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 } });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      return void res.end(payload);
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const piece of [text.slice(0, 6), text.slice(6)]) {
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`);
    }
    res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
}

export const sseEvents = (text: string): any[] =>
  text
    .split('\n\n')
    .filter((l) => l.startsWith('data: ') && !l.includes('[DONE]'))
    .map((l) => JSON.parse(l.slice(6)));
