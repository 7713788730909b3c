import type { OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { UpstreamResult } from '../pipeline/upstream.js';

export type UpstreamResponse = Extract<UpstreamResult, { kind: 'response' }>;

/**
 * An upstream-shaped answer over text already in memory: a nested target's 446 (which the
 * strategy may fall back from) or a cached answer replayed through the output checks. It offers
 * what reply() and the strategy use of an undici body: async iteration, text/json/arrayBuffer, dump.
 */
export function bufferedResult(status: number, headers: OutgoingHttpHeaders, text: string): UpstreamResponse {
  const bytes = Buffer.from(text);
  const body = Object.assign(Readable.from([bytes]), {
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    dump: async () => {},
  });
  return { kind: 'response', status, headers: { ...headers }, body } as unknown as UpstreamResponse;
}
