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
});
