import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TappedResponse, tapResponse, type ResponseTap } from '../../runtime/gateway/telemetry/response-tap.js';

/** What a tap saw of a response written by `write`, on a real server with the gateway's response class. */
let answer: (res: ServerResponse) => ResponseTap;
let seen: ResponseTap | undefined;
const server = createServer({ ServerResponse: TappedResponse }, (_req, res) => {
  seen = answer(res);
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function tapOf(write: (res: ServerResponse) => void, captureBytes = 0): Promise<{ tap: ResponseTap; body: string }> {
  answer = (res) => {
    const tap = tapResponse(res, captureBytes);
    write(res);
    return tap;
  };
  const body = await (await fetch(url)).text();
  return { tap: seen!, body };
}

describe('telemetry: response tap', () => {
  it('one write: head and tail are that chunk, headers are read from the writeHead object', async () => {
    const { tap, body } = await tapOf((res) => res.writeHead(200, { 'Content-Type': 'application/json', 'x-portkey-cache-status': 'MISS' }).end(Buffer.from('{"usage":{"total_tokens":3}}')));
    expect(body).toBe('{"usage":{"total_tokens":3}}');
    expect(tap.bytes).toBe(body.length);
    expect(tap.headBytes().toString()).toBe(body);
    expect(tap.tail()).toBe(body);
    expect(tap.header('x-portkey-cache-status')).toBe('MISS');
    expect(tap.header('content-type')).toBe('application/json'); // written in mixed case: found by normalising
    expect(tap.body()).toBeUndefined();
  });

  it('many writes: the head keeps the first 4 KB, the tail the last 16 KB, strings and Uint8Arrays included', async () => {
    const chunk = (c: string) => c.repeat(3000);
    const { tap, body } = await tapOf((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk('a'));
      res.write(new Uint8Array(Buffer.from(chunk('b'))));
      for (const c of 'cdefghijklmn') res.write(chunk(c));
      res.end('tail-end', 'utf8');
    });
    expect(tap.bytes).toBe(Buffer.byteLength(body));
    expect(tap.head()).toBe(chunk('a') + chunk('b')); // parts until 4 KB were reached
    expect(tap.tailBytes().length).toBe(16 * 1024);
    expect(body.endsWith(tap.tail())).toBe(true);
    expect(tap.tail().endsWith('ntail-end')).toBe(true);
  });

  it('sees writeHead headers only (setHeader ones are read from the response); capture keeps the body up to its cap', async () => {
    const { tap } = await tapOf((res) => {
      res.setHeader('x-a', '1');
      res.writeHead(201, { 'x-portkey-provider': 'openai' });
      res.write('0123456789');
      res.end('abcdef');
    }, 12);
    expect(tap.header('x-portkey-provider')).toBe('openai');
    expect(tap.header('x-a')).toBeUndefined();
    expect(tap.headers['x-portkey-provider']).toBe('openai');
    expect(tap.body()).toEqual({ text: '0123456789ab', truncated: true });
    expect(tap.tail()).toBe('0123456789abcdef');
  });
});
