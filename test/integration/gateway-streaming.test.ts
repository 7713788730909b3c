import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHAT_BODY, gatewayHeaders, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';
import type { MockServer } from '../support/mock-base.js';

let h: GatewayHarness;
beforeAll(async () => {
  h = await startGatewayHarness();
});
afterAll(async () => h?.close());
beforeEach(() => {
  h.openai.control.reset();
  h.anthropic.control.reset();
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
