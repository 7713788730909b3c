import { describe, expect, it } from 'vitest';
import { usageFromResponse } from '../../runtime/gateway/telemetry/usage.js';

/** The usage scanner reads only the usage object's own counts, as JSON.parse of it would. */
describe('telemetry: usage scanner', () => {
  it('skips nested details, strings, nulls and non-numbers, and takes the last duplicate', () => {
    const body = JSON.stringify({
      choices: [{ message: { content: 'the "usage": {"prompt_tokens": 999} in text' } }],
      usage: { prompt_tokens_details: { prompt_tokens: 1, cached_tokens: 2 }, prompt_tokens: 30, completion_tokens: 12.6, total_tokens: 43, note: 'total_tokens: 5', extra: [1, { total_tokens: 7 }] },
    });
    expect(usageFromResponse(body, body)).toEqual({ input: 30, output: 13, total: 43 });
    expect(usageFromResponse('', '{"usage": {"prompt_tokens": null, "input_tokens": 8, "output_tokens": "9", "total_tokens": -1}}')).toEqual({ input: 8, output: undefined, total: undefined });
    expect(usageFromResponse('', '{"usage":{"prompt_tokens":5,"prompt_tokens":6}}')).toEqual({ input: 6, output: undefined, total: undefined });
    expect(usageFromResponse('', '{"usage" : { "prompt_tokens" : 2 , "completion_tokens" : 3e0 }}')).toEqual({ input: 2, output: 3, total: undefined });
  });

  it('scans the bytes as sent: multi-byte characters and escaped quotes before the usage do not confuse it', () => {
    const body = Buffer.from(JSON.stringify({ choices: [{ message: { content: 'héllo 日本語 "usage": {"prompt_tokens": 1} 🙂' } }], usage: { prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 } }));
    expect(usageFromResponse(body, body)).toEqual({ input: 21, output: 4, total: 25 });
  });

  it('ignores a usage object cut off by the tail window or never closed', () => {
    expect(usageFromResponse('', '{"usage":{"prompt_tokens":5,"completion_tok')).toBeUndefined();
    const tail = 'data: {"usage":{"prompt_tokens":4,"completion_tokens":2}}\n\ndata: {"usage":{"prompt_tokens":9';
    expect(usageFromResponse('', tail)).toEqual({ input: 4, output: 2, total: undefined });
  });

  it('finds the same usage whether the bytes are searched in JS (short) or natively (over 2 KB)', () => {
    // An Anthropic stream: input tokens only in message_start (head), output in the last message_delta (tail).
    const stream = (padding: number) =>
      Buffer.from(
        `event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":17,"output_tokens":1}}}\n\n` +
          `data: {"type":"content_block_delta","delta":{"text":"${'x'.repeat(padding)}"}}\n\n` +
          `data: {"type":"message_delta","usage":{"output_tokens":42}}\n\n` +
          `data: {"type":"message_delta","usage":null}\n\n`,
      );
    for (const padding of [10, 5000]) {
      const body = stream(padding);
      expect(body.length > 2048).toBe(padding > 2048);
      expect(usageFromResponse(body, body), `padding ${padding}`).toEqual({ input: 17, output: 42, total: undefined });
    }
    // A key at the very start and at the very end of a short buffer.
    expect(usageFromResponse('', Buffer.from('"usage":{"total_tokens":3}'))).toEqual({ input: undefined, output: undefined, total: 3 });
    expect(usageFromResponse('', Buffer.from('{"a":1,"usage"'))).toBeUndefined();
  });

  it('agrees with JSON.parse on generated usage objects (nested values, strings with braces and quotes, spacing)', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const keys = ['prompt_tokens', 'input_tokens', 'completion_tokens', 'output_tokens', 'total_tokens', 'cached_tokens', 'prompt_tokens_details'];
    const values = () => pick<unknown>([Math.floor(rand() * 5000), -3, 2.6, null, 'x}"{', { total_tokens: 9, note: ']' }, [1, { prompt_tokens: 4 }], true]);
    for (let n = 0; n < 500; n++) {
      const usage: Record<string, unknown> = {};
      for (let k = Math.floor(rand() * 6); k > 0; k--) usage[pick(keys)] = values();
      const space = rand() < 0.5 ? 0 : 1;
      const body = Buffer.from(JSON.stringify({ choices: [{ text: 'the "usage": {"total_tokens": 1}' }], usage }, null, space));
      const count = (k: string) => {
        const v = usage[k];
        return typeof v === 'number' && v >= 0 ? Math.round(v) : undefined;
      };
      const expected = { input: count('prompt_tokens') ?? count('input_tokens'), output: count('completion_tokens') ?? count('output_tokens'), total: count('total_tokens') };
      const found = usageFromResponse(body, body);
      if (expected.input === undefined && expected.output === undefined && expected.total === undefined) expect(found, body.toString()).toBeUndefined();
      else expect(found, body.toString()).toEqual(expected);
    }
  });
});
