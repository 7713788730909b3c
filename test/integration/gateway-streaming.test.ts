import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHAT_BODY, defaultSpec, gatewayHeaders, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';
import type { MockServer } from '../support/mock-base.js';
import { startMockBedrock } from '../support/mock-bedrock.js';

const AWS = { accessKeyId: 'AKIAMOCKSTREAMKEY001', secretAccessKey: 'stream/secret+key0123456789abcdef', region: 'eu-west-1' };
let h: GatewayHarness;
let bedrock: MockServer;
beforeAll(async () => {
  bedrock = await startMockBedrock(AWS);
  h = await startGatewayHarness({
    spec: (m) => {
      const spec = defaultSpec(m);
      spec.virtualKeys!.push({ slug: 'bedrock-vk', provider: 'bedrock', secret: AWS.secretAccessKey, options: { custom_host: bedrock.url, aws_region: AWS.region, aws_access_key_id: AWS.accessKeyId } });
      return spec;
    },
  });
});
afterAll(async () => {
  await h?.close();
  await bedrock?.close();
});
beforeEach(() => {
  h.openai.control.reset();
  h.anthropic.control.reset();
  bedrock.control.reset();
});

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`timed out waiting for ${what}`)))]);
}

/** Reads SSE text until `until` appears, without waiting for the stream to end. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, until: string, seen = ''): Promise<string> {
  const decoder = new TextDecoder();
  while (!seen.includes(until)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before "${until}"`);
    seen += decoder.decode(value, { stream: true });
  }
  return seen;
}

async function openStream(vk: string, signal?: AbortSignal) {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: gatewayHeaders({ 'x-portkey-virtual-key': vk }),
    body: JSON.stringify({ ...CHAT_BODY, stream: true }),
    signal,
  });
  expect(res.status).toBe(200);
  return res.body!.getReader();
}

describe.each([
  ['openai (piped)', 'openai-vk', () => h.openai, '"content":"Hello"'],
  ['anthropic (translated)', 'anthropic-vk', () => h.anthropic, '"content":"Hello"'],
])('streaming through %s', (_name, vk, mock: () => MockServer, firstPiece) => {
  it('delivers the first chunk while the upstream is still holding the rest', async () => {
    mock().control.holdStreamAfterFirstChunk();
    const reader = await openStream(vk);
    // If the gateway buffered, this would never resolve: the mock sends nothing more until released.
    const head = await withTimeout(readUntil(reader, firstPiece), 3000, 'the first chunk');
    expect(head).not.toContain(' from');
    expect(head).not.toContain('[DONE]');
    mock().control.releaseStream();
    const all = await withTimeout(readUntil(reader, 'data: [DONE]', head), 3000, 'the end of the stream');
    expect(all).toContain('" from"');
    await reader.cancel();
  });

  it('aborts the upstream request when the client disconnects', async () => {
    mock().control.holdStreamAfterFirstChunk();
    const abort = new AbortController();
    const reader = await openStream(vk, abort.signal);
    await withTimeout(readUntil(reader, firstPiece), 3000, 'the first chunk');
    abort.abort();
    await withTimeout(
      (async () => {
        while (mock().control.abortedResponses === 0) await sleep(10);
      })(),
      3000,
      'the upstream to see the abort',
    );
    expect(mock().control.abortedResponses).toBe(1);
    mock().control.releaseStream();
  });
});

it('aborts the upstream Bedrock ConverseStream (AWS event stream) when the client disconnects', async () => {
  bedrock.control.holdStreamAfterFirstChunk();
  const abort = new AbortController();
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: gatewayHeaders({ 'x-portkey-virtual-key': 'bedrock-vk' }),
    body: JSON.stringify({ ...CHAT_BODY, model: 'anthropic.claude-3-haiku-20240307-v1:0', stream: true }),
    signal: abort.signal,
  });
  await withTimeout(readUntil(res.body!.getReader(), '"content":"Hello"'), 3000, 'the first chunk');
  abort.abort();
  await withTimeout(
    (async () => {
      while (bedrock.control.abortedResponses === 0) await sleep(10);
    })(),
    3000,
    'the upstream to see the abort',
  );
  expect(bedrock.control.abortedResponses).toBe(1);
});

/** The log record the gateway kept for one trace id (customer log store), polled until written. */
async function loggedRecord(traceId: string): Promise<{ status: number; success: boolean }> {
  for (let i = 0; i < 100; i++) {
    const line = (await h.readLogStore()).split('\n').find((l) => l.includes(`"trace_id":"${traceId}"`));
    if (line) return JSON.parse(line).metrics;
    await sleep(50);
  }
  throw new Error(`no log record for ${traceId}`);
}

describe.each([
  ['openai (piped), socket breaks', 'openai-vk', () => h.openai, 'breakStream'],
  ['openai (piped), in-band error object', 'openai-vk', () => h.openai, 'streamErrorEvent'],
  ['anthropic (translated), socket breaks', 'anthropic-vk', () => h.anthropic, 'breakStream'],
  ['anthropic (translated), in-band error event', 'anthropic-vk', () => h.anthropic, 'streamErrorEvent'],
  ['bedrock (event-stream), socket breaks', 'bedrock-vk', () => bedrock, 'breakStream'],
  ['bedrock (event-stream), exception frame', 'bedrock-vk', () => bedrock, 'streamErrorEvent'],
] as const)('mid-stream upstream failure: %s', (_name, vk, mock, how) => {
  it('gives the client an SSE error event after the first content, never [DONE], and records the request as failed', async () => {
    mock().control[how] = true;
    const traceId = `midstream-${vk}-${how}-${Date.now()}`;
    const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: gatewayHeaders({ 'x-portkey-virtual-key': vk, 'x-portkey-trace-id': traceId }),
      body: JSON.stringify({ ...CHAT_BODY, model: vk === 'bedrock-vk' ? 'anthropic.claude-3-haiku-20240307-v1:0' : CHAT_BODY.model, stream: true }),
    });
    expect(res.status).toBe(200);
    const events = (await withTimeout(res.text(), 5000, 'the stream to end')).trim().split('\n\n');
    expect(events.join('\n')).not.toContain('[DONE]');
    expect(JSON.parse(events[1].slice(6)).choices[0].delta.content).toBeTruthy(); // content arrived before the failure
    const last = JSON.parse(events.at(-1)!.replace(/^event: error\n/, '').slice(6));
    expect(last.error.message).toBeTruthy();
    expect(events.filter((e) => e.includes('"error"'))).toHaveLength(1);
    const record = await loggedRecord(traceId);
    expect(record.success).toBe(false);
    expect(record.status).toBeGreaterThanOrEqual(500);
  });
});
