import { createServer } from 'node:http';

/**
 * The benchmark's upstream: an OpenAI-compatible chat endpoint that answers at once with a fixed,
 * realistically sized body, so every microsecond measured on top of it is the gateway's.
 */
/**
 * BENCH_RESPONSE picks the answer's shape (the same for every request of a run):
 * - `small` (default): a one-line chat completion, 259 bytes: the least work a gateway can do per call;
 * - `typical`: a paragraph-long answer with the usage details OpenAI sends today (~1.5 KB);
 * - `stream`: that answer as an SSE stream of 40 chunks plus the usage chunk (`stream_options.include_usage`).
 */
const shape = process.env.BENCH_RESPONSE ?? 'small';
const answer = 'Sure. Here is a short overview of the topic you asked about, written in plain language. '.repeat(8).trim();
const usageDetails = {
  prompt_tokens: 42, completion_tokens: 160, total_tokens: 202,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
};
const small = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the benchmark upstream.' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
});
const typical = JSON.stringify({
  id: 'chatcmpl-bench-typical',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message: { role: 'assistant', content: answer, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
  usage: usageDetails,
  service_tier: 'default',
  system_fingerprint: 'fp_bench',
});
const chunk = (delta: unknown, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench-stream', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_bench', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null })}\n\n`;
const words = answer.split(' ');
const per = Math.ceil(words.length / 40);
const events = [
  chunk({ role: 'assistant', content: '', refusal: null }, null),
  ...Array.from({ length: 40 }, (_, i) => chunk({ content: `${words.slice(i * per, (i + 1) * per).join(' ')} ` }, null)),
  chunk({}, 'stop'),
  `data: ${JSON.stringify({ id: 'chatcmpl-bench-stream', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_bench', choices: [], usage: usageDetails })}\n\n`,
  'data: [DONE]\n\n',
];
if (!['small', 'typical', 'stream'].includes(shape)) throw new Error(`BENCH_RESPONSE: expected small, typical or stream, got "${shape}"`);

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (shape === 'stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      // One write per event, as a provider's stream arrives.
      for (const e of events) res.write(e);
      res.end();
      return;
    }
    const body = shape === 'typical' ? typical : small;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
