import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisCache } from '../../runtime/adapters/redis-cache.js';
import type { KeyValueCache } from '../../runtime/core/ports.js';
import type { RunningGateway } from '../../runtime/gateway/server.js';
import { CHAT_BODY, gatewayHeaders, OPENAI_SECRET, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

const REDIS_URL = process.env.TOLLGATE_TEST_REDIS_URL;
let redis: KeyValueCache | undefined;
let h: GatewayHarness;
beforeAll(async () => {
  redis = REDIS_URL ? redisCache({ url: REDIS_URL, keyPrefix: `tg-routing-${randomUUID()}:` }) : undefined;
  h = await startGatewayHarness(redis ? { gateway: { cache: redis } } : {});
});
afterAll(async () => {
  await h?.close();
  await redis?.close();
});
beforeEach(() => {
  h.openai.control.reset();
  h.backup.control.reset();
  h.anthropic.control.reset();
});

async function chat(config: unknown, body: object = CHAT_BODY, extra: Record<string, string> = {}, gateway: RunningGateway = h.gateway) {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: gatewayHeaders({ 'x-portkey-config': JSON.stringify(config), ...extra }),
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { res, json, text, answer: json?.choices?.[0]?.message?.content as string | undefined };
}

const conditional = {
  strategy: {
    mode: 'conditional',
    conditions: [
      { query: { 'metadata.plan': { $eq: 'paid' } }, then: 'primary' },
      { query: { $and: [{ 'metadata.tier': { $gte: 3 } }, { 'params.model': { $regex: '^gpt-4' } }] }, then: 'primary' },
      { query: { $or: [{ 'metadata.region': { $in: ['eu', 'uk'] } }, { 'params.temperature': { $lt: 0.1 } }] }, then: 'anthropic' },
      { query: { 'metadata.plan': { $nin: ['free', 'trial'] }, 'metadata.beta': { $ne: true } }, then: 'backup' },
    ],
    default: 'backup',
  },
  targets: [
    { name: 'primary', virtual_key: 'openai-vk' },
    { name: 'backup', virtual_key: 'backup-vk' },
    { name: 'anthropic', virtual_key: 'anthropic-vk' },
  ],
};

describe('conditional routing', () => {
  const meta = (m: object) => ({ 'x-portkey-metadata': JSON.stringify(m) });
  it.each([
    [{ plan: 'paid' }, CHAT_BODY, 'Hello from primary', 'config.targets[0]'],
    [{ tier: 3 }, { ...CHAT_BODY, model: 'gpt-4o' }, 'Hello from primary', 'config.targets[0]'],
    [{ tier: 2 }, { ...CHAT_BODY, model: 'gpt-4o' }, 'Hello from backup', 'config.targets[1]'],
    [{ region: 'uk' }, CHAT_BODY, 'Hello from anthropic-mock', 'config.targets[2]'],
    [{ plan: 'free' }, { ...CHAT_BODY, temperature: 0 }, 'Hello from anthropic-mock', 'config.targets[2]'],
    [{ plan: 'team' }, CHAT_BODY, 'Hello from backup', 'config.targets[1]'],
    [{ plan: 'free' }, CHAT_BODY, 'Hello from backup', 'config.targets[1]'],
  ])('metadata %j routes as configured', async (m, body, answer, index) => {
    const { res, answer: got } = await chat(conditional, body, meta(m));
    expect(got).toBe(answer);
    expect(res.headers.get('x-portkey-last-used-option-index')).toBe(index);
  });

  it('evaluates every operator over metadata.* and params.* (nested paths too)', async () => {
    const { matches } = await import('../../runtime/gateway/pipeline/conditions.js');
    const input = { metadata: { tier: 3, plan: 'pro', org: { size: 12 } }, params: { model: 'gpt-4o-mini', temperature: 0.2 } };
    const cases: [object, boolean][] = [
      [{ 'metadata.plan': 'pro' }, true],
      [{ 'metadata.plan': { $eq: 'free' } }, false],
      [{ 'metadata.plan': { $ne: 'free' } }, true],
      [{ 'metadata.tier': { $gt: 3 } }, false],
      [{ 'metadata.tier': { $gt: 2 } }, true],
      [{ 'metadata.tier': { $gte: 3 } }, true],
      [{ 'metadata.tier': { $lt: 3 } }, false],
      [{ 'metadata.tier': { $lte: 3 } }, true],
      [{ 'metadata.org.size': { $gt: 10, $lt: 20 } }, true],
      [{ 'metadata.plan': { $in: ['pro', 'team'] } }, true],
      [{ 'metadata.plan': { $nin: ['pro', 'team'] } }, false],
      [{ 'params.model': { $regex: '^gpt-4o' } }, true],
      [{ 'params.model': { $regex: '^claude' } }, false],
      [{ $and: [{ 'metadata.tier': { $gte: 3 } }, { 'params.temperature': { $lt: 0.5 } }] }, true],
      [{ $and: [{ 'metadata.tier': { $gte: 3 } }, { 'params.temperature': { $gt: 0.5 } }] }, false],
      [{ $or: [{ 'metadata.plan': 'free' }, { 'params.temperature': { $lte: 0.2 } }] }, true],
      [{ $or: [{ 'metadata.plan': 'free' }, { 'metadata.missing': { $eq: 1 } }] }, false],
    ];
    for (const [query, expected] of cases) expect([query, matches(query, input)]).toEqual([query, expected]);
  });

  it('400s a condition naming no target, an unknown operator, or no match without default', async () => {
    const bad = await chat({ ...conditional, strategy: { ...conditional.strategy, default: 'nobody' } });
    expect(bad.res.status).toBe(400);
    expect(bad.json.message).toContain('nobody');
    const op = await chat({ ...conditional, strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.a': { $near: 1 } }, then: 'primary' }] } }, CHAT_BODY, meta({ a: 1 }));
    expect(op.res.status).toBe(400);
    const none = await chat({ ...conditional, strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.a': 1 }, then: 'primary' }] } }, CHAT_BODY, meta({ a: 2 }));
    expect(none.res.status).toBe(400);
    const metadata = await chat(conditional, CHAT_BODY, { 'x-portkey-metadata': 'not json' });
    expect(metadata.res.status).toBe(400);
  });

  it('nests: a conditional target can be a fallback group that inherits override_params', async () => {
    h.openai.control.fail(503);
    const config = {
      override_params: { max_tokens: 7 },
      strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.plan': 'paid' }, then: 'group' }], default: 'group' },
      targets: [{ name: 'group', strategy: { mode: 'fallback' }, override_params: { temperature: 0.5 }, targets: [{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }] }],
    };
    const { answer, res } = await chat(config, CHAT_BODY, meta({ plan: 'paid' }));
    expect(answer).toBe('Hello from backup');
    expect(res.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[0].targets[1]');
    expect(h.backup.control.requests[0].body).toMatchObject({ max_tokens: 7, temperature: 0.5 });
  });
});

describe('sticky load balancing', () => {
  it('sends equal hash-field values to the same target, and spreads different ones', async () => {
    const config = { strategy: { mode: 'loadbalance', sticky_session: { hash_fields: ['metadata.user_id'] } }, targets: [{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }] };
    const seen = new Map<string, Set<string>>();
    for (let user = 0; user < 12; user++) {
      for (let i = 0; i < 3; i++) {
        const { answer } = await chat(config, CHAT_BODY, { 'x-portkey-metadata': JSON.stringify({ user_id: `u${user}` }) });
        if (!seen.has(`u${user}`)) seen.set(`u${user}`, new Set());
        seen.get(`u${user}`)!.add(answer!);
      }
    }
    for (const answers of seen.values()) expect(answers.size).toBe(1);
    const distinct = new Set([...seen.values()].map((s) => [...s][0]));
    expect(distinct.size).toBe(2);
  });
});

describe('retries', () => {
  it('honours retry-after-ms, retry-after and x-ms-retry-after-ms before retrying', async () => {
    const { retryAfterMs } = await import('../../runtime/gateway/pipeline/execute.js');
    expect(retryAfterMs({ 'retry-after-ms': '250' })).toBe(250);
    expect(retryAfterMs({ 'x-ms-retry-after-ms': '40' })).toBe(40);
    expect(retryAfterMs({ 'retry-after': '2' })).toBe(2000);
    expect(retryAfterMs({ 'retry-after': new Date(Date.now() + 3000).toUTCString() })).toBeGreaterThan(1000);
    expect(retryAfterMs({ 'retry-after': '99999' })).toBe(60_000); // capped
    expect(retryAfterMs({})).toBeUndefined();

    h.openai.control.fail(429, 1);
    h.openai.control.failHeaders = { 'retry-after-ms': '300' };
    const started = Date.now();
    const { res, answer } = await chat({ virtual_key: 'openai-vk', retry: { attempts: 2 } });
    expect(answer).toBe('Hello from primary');
    expect(res.headers.get('x-portkey-retry-attempt-count')).toBe('1');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('backs off exponentially with jitter (between half and all of 100 ms · 2^n), capped at 10 s', async () => {
    const { backoffMs } = await import('../../runtime/gateway/pipeline/execute.js');
    expect(backoffMs(0, () => 0)).toBe(50);
    expect(backoffMs(0, () => 1)).toBe(100);
    expect(backoffMs(3, () => 0)).toBe(400);
    expect(backoffMs(3, () => 1)).toBe(800);
    expect(backoffMs(20, () => 1)).toBe(10_000);
    const samples = new Set(Array.from({ length: 20 }, () => backoffMs(2, Math.random)));
    expect(samples.size).toBeGreaterThan(1); // jittered, not a fixed delay
    for (const v of samples) expect(v).toBeGreaterThanOrEqual(200), expect(v).toBeLessThanOrEqual(400);
  });

  it('a child that sets retry replaces the parent’s whole (on_status_codes are not merged in)', async () => {
    // Parent retries only 418; the child's own retry falls back to the default codes, which include 500.
    const config = { retry: { attempts: 3, on_status_codes: [418] }, strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-vk', retry: { attempts: 1 } }] };
    h.openai.control.fail(500, 1);
    h.openai.control.failHeaders = { 'retry-after-ms': '1' };
    const replaced = await chat(config);
    expect(replaced.answer).toBe('Hello from primary');
    expect(replaced.res.headers.get('x-portkey-retry-attempt-count')).toBe('1');
    h.openai.control.reset();
    // Without a child retry the parent's is inherited: 500 is not in [418], so no retry.
    h.openai.control.fail(500, 1);
    const inherited = await chat({ ...config, targets: [{ virtual_key: 'openai-vk' }] });
    expect(inherited.res.status).toBe(500);
    expect(inherited.res.headers.get('x-portkey-retry-attempt-count')).toBe('0');
  });

  it('caps attempts at 5', async () => {
    const bad = await chat({ virtual_key: 'openai-vk', retry: { attempts: 6 } });
    expect(bad.res.status).toBe(400);
    h.openai.control.fail(503);
    h.openai.control.failHeaders = { 'retry-after-ms': '1' };
    const { res } = await chat({ virtual_key: 'openai-vk', retry: { attempts: 5 } });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-portkey-retry-attempt-count')).toBe('5');
    expect(h.openai.control.requests).toHaveLength(6);
  });
});

describe('request_timeout', () => {
  it('never cuts a started stream with the first-byte timeout, but fails one that goes idle (SSE error, no [DONE])', async () => {
    h.openai.control.chunkDelayMs = 60; // total stream ≈ 300 ms, each gap < 150 ms
    const ok = await chat({ virtual_key: 'openai-vk', request_timeout: 150 }, { ...CHAT_BODY, stream: true });
    expect(ok.res.status).toBe(200);
    expect(ok.text).toContain('data: [DONE]');
    expect(ok.text).toContain('" from"');

    h.openai.control.reset();
    h.openai.control.holdStreamAfterFirstChunk();
    const idle = await chat({ virtual_key: 'openai-vk', request_timeout: 150 }, { ...CHAT_BODY, stream: true });
    expect(idle.res.status).toBe(200);
    expect(idle.text).toContain('"content":"Hello"');
    expect(idle.text).not.toContain('[DONE]');
    const last = idle.text.trim().split('\n\n').at(-1)!;
    expect(JSON.parse(last.slice(6)).error.type).toBe('timeout_error');
    h.openai.control.releaseStream();
  });
});

describe('mid-stream upstream failure', () => {
  it.each([
    ['openai (piped)', 'openai-vk', () => h.openai],
    ['anthropic (translated)', 'anthropic-vk', () => h.anthropic],
  ])('%s: the client gets an SSE error event and no [DONE]', async (_name, vk, mock) => {
    mock().control.breakStream = true;
    const { res, text } = await chat({ virtual_key: vk }, { ...CHAT_BODY, stream: true });
    expect(res.status).toBe(200);
    expect(text).not.toContain('[DONE]');
    const last = text.trim().split('\n\n').at(-1)!;
    expect(JSON.parse(last.slice(6)).error.message).toContain('failed');
  });
});

describe('streamed usage', () => {
  it('asks for usage and counts tokens when the provider sends none', async () => {
    const asked = await chat({ virtual_key: 'openai-vk' }, { ...CHAT_BODY, stream: true });
    expect(h.openai.control.requests[0].body.stream_options).toEqual({ include_usage: true });
    const chunks = asked.text.trim().split('\n\n').slice(0, -1).map((l) => JSON.parse(l.slice(6)));
    expect(chunks.at(-1).usage).toMatchObject({ completion_tokens: 3 });

    const { startMockOpenAI } = await import('../support/mock-openai.js');
    const silent = await startMockOpenAI({ name: 'silent', noStreamUsage: true });
    try {
      const counted = await chat({ provider: 'openai', api_key: 'k', custom_host: `${silent.url}/v1` }, { ...CHAT_BODY, stream: true });
      const events = counted.text.trim().split('\n\n');
      expect(events.at(-1)).toBe('data: [DONE]');
      const usage = JSON.parse(events.at(-2)!.slice(6)).usage;
      // gpt-tokenizer: "Hello from silent" = 3 tokens, "Say hello." = 3 tokens
      expect(usage).toEqual({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
      // The legacy completions stream too: counted from the chunks' `text`, the prompt from `prompt`.
      const res = await fetch(`${h.gateway.url}/v1/completions`, {
        method: 'POST',
        headers: gatewayHeaders({ 'x-portkey-config': JSON.stringify({ provider: 'openai', api_key: 'k', custom_host: `${silent.url}/v1` }) }),
        body: JSON.stringify({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello.', stream: true }),
      });
      const completion = (await res.text()).trim().split('\n\n');
      expect(completion.at(-1)).toBe('data: [DONE]');
      expect(JSON.parse(completion.at(-2)!.slice(6)).usage).toEqual({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
    } finally {
      await silent.close();
    }
  });
});

describe('circuit breaker', () => {
  const cb = { failure_threshold: 2, cooldown_interval: 400 };
  const config = { strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-vk', cb_config: cb }, { virtual_key: 'backup-vk' }] };

  it('opens after the threshold, skips the open target, and recovers after the cooldown', async () => {
    h.openai.control.fail(500);
    for (let i = 0; i < 2; i++) expect((await chat(config)).answer).toBe('Hello from backup');
    expect(h.openai.control.requests).toHaveLength(2);
    const skipped = await chat(config);
    expect(skipped.answer).toBe('Hello from backup');
    expect(h.openai.control.requests).toHaveLength(2); // open: not called
    h.openai.control.reset();
    await sleep(450);
    const recovered = await chat(config);
    expect(recovered.answer).toBe('Hello from primary');
  });

  it('opens on failure_threshold_percentage only once minimum_requests were seen', async () => {
    // A target of its own (the primary mock by another host name), so no other test's breaker state applies.
    const primary = { provider: 'openai', api_key: OPENAI_SECRET, custom_host: `${h.openai.url.replace('127.0.0.1', 'localhost')}/v1` };
    const pct = { strategy: { mode: 'fallback' }, targets: [{ ...primary, cb_config: { failure_threshold_percentage: 50, minimum_requests: 4, cooldown_interval: 400 } }, { virtual_key: 'backup-vk' }] };
    expect((await chat(pct)).answer).toBe('Hello from primary');
    h.openai.control.fail(500, 1);
    expect((await chat(pct)).answer).toBe('Hello from backup'); // 1 of 2 failed = 50%, but under 4 requests: stays closed
    expect((await chat(pct)).answer).toBe('Hello from primary');
    h.openai.control.fail(500, 1);
    expect((await chat(pct)).answer).toBe('Hello from backup'); // 2 of 4 = 50%: opens
    const calls = h.openai.control.requests.length;
    expect(calls).toBe(4);
    expect((await chat(pct)).answer).toBe('Hello from backup');
    expect(h.openai.control.requests.length).toBe(calls); // skipped while open
    await sleep(450);
    expect((await chat(pct)).answer).toBe('Hello from primary'); // the half-open trial succeeds
  });

  it.skipIf(!REDIS_URL)('shares the open state with another gateway task through Redis', async () => {
    const other = await h.startAnotherGateway({ cache: redis });
    const shared = { strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-vk', cb_config: { failure_threshold: 1, cooldown_interval: 5000 } }, { virtual_key: 'backup-vk' }] };
    h.openai.control.fail(500);
    expect((await chat(shared)).answer).toBe('Hello from backup'); // opens on gateway 1
    h.openai.control.reset();
    await chat(shared, CHAT_BODY, {}, other); // gateway 2 starts its background refresh
    await sleep(100);
    const calls = h.openai.control.requests.length;
    expect((await chat(shared, CHAT_BODY, {}, other)).answer).toBe('Hello from backup');
    expect(h.openai.control.requests.length).toBe(calls); // gateway 2 skipped the open target
  });
});
