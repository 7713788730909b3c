import { describe, expect, it } from 'vitest';
import { completionChars, estimateTokens, promptChars, resolveUsage, usageFromResponse } from '../../runtime/gateway/telemetry/usage.js';
import { costCents, priceFor } from '../../runtime/gateway/telemetry/pricing.js';
import { maskHeaders, scrubSecrets, secretsOf } from '../../runtime/gateway/telemetry/mask.js';

describe('telemetry: usage, estimates, prices, masking', () => {
  it('reads usage from a JSON body, the last stream chunk, and Anthropic message_start/message_delta', () => {
    expect(usageFromResponse('', '{"id":"x","usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}')).toEqual({ input: 3, output: 4, total: 7 });
    const sse = 'data: {"usage":null}\n\ndata: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\ndata: [DONE]\n\n';
    expect(usageFromResponse(sse, sse)).toEqual({ input: 5, output: 2, total: 7 });
    const head = 'event: message_start\ndata: {"message":{"usage":{"input_tokens":9,"output_tokens":1}}}\n\n';
    const tail = 'event: message_delta\ndata: {"usage":{"output_tokens":12}}\n\n';
    expect(usageFromResponse(head, tail)).toEqual({ input: 9, output: 12, total: undefined });
    expect(resolveUsage(usageFromResponse(head, tail), () => ({ req: 0, res: 0 }))).toEqual({ req: 9, res: 12, total: 21, estimated: false });
  });

  it('estimates ≈ 4 characters a token when the provider reports none', () => {
    const body = { messages: [{ role: 'user', content: 'abcdefgh' }, { role: 'user', content: [{ type: 'text', text: 'abcd' }] }] };
    expect(promptChars(body)).toBe(12);
    expect(completionChars('data: {"choices":[{"delta":{"content":"Hello"}}]}\n\ndata: {"choices":[{"delta":{"content":" there"}}]}')).toBe(11);
    expect(resolveUsage(usageFromResponse('', 'data: {"usage":null}'), () => ({ req: estimateTokens(12), res: estimateTokens(11) }))).toEqual({ req: 3, res: 3, total: 6, estimated: true });
  });

  it('prices from the synced catalogue first, the built-in table second, by longest prefix', () => {
    const catalogue = [{ provider: 'openai', model: 'gpt-4o-mini', input_per_1m: 1, output_per_1m: 2, currency: 'usd' }];
    expect(priceFor(catalogue, 'openai', 'gpt-4o-mini-2024-07-18')).toMatchObject({ inputPerMillion: 1, outputPerMillion: 2, currency: 'USD' });
    expect(priceFor(undefined, 'openai', 'gpt-4o-mini-2024-07-18')).toMatchObject({ inputPerMillion: 0.15, outputPerMillion: 0.6 });
    expect(priceFor({ openai: { 'my-model': { input_cost_per_token: 0.000002, output_cost_per_token: 0.000004 } } }, 'openai', 'my-model')).toMatchObject({ inputPerMillion: 2, outputPerMillion: 4 });
    expect(priceFor(undefined, 'openai', 'unknown-model')).toBeUndefined();
    expect(costCents({ inputPerMillion: 2.5, outputPerMillion: 10, currency: 'USD' }, 1000, 1000)).toBeCloseTo(1.25, 9);
  });

  it('masks credential headers, inline config keys, and known secrets anywhere in the text', () => {
    const headers = { authorization: 'Bearer sk-live-0123456789', 'x-portkey-api-key': 'pk-0123456789', 'x-portkey-config': '{"provider":"openai","api_key":"sk-inline-0123456789"}', 'x-portkey-metadata': '{"a":"b"}' };
    const masked = maskHeaders(headers);
    expect(masked.authorization).toBe('[redacted]');
    expect(masked['x-portkey-api-key']).toBe('[redacted]');
    expect(JSON.parse(masked['x-portkey-config']).api_key).toBe('[redacted]');
    expect(masked['x-portkey-metadata']).toBe('{"a":"b"}');
    const text = scrubSecrets('upstream said: Incorrect API key provided: sk-live-0123456789 and pk-0123456789', secretsOf(headers));
    expect(text).toBe('upstream said: Incorrect API key provided: [redacted] and [redacted]');
  });
});
