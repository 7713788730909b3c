import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisCache } from '../../runtime/adapters/redis-cache.js';
import type { KeyValueCache } from '../../runtime/core/ports.js';
import { CHAT_BODY, gatewayHeaders, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

/** The simple response cache, against the real Redis that vitest's global setup starts. */
const REDIS_URL = process.env.TOLLGATE_TEST_REDIS_URL;
if (!REDIS_URL && process.env.TOLLGATE_REQUIRE_REAL_SERVERS) throw new Error('TOLLGATE_TEST_REDIS_URL is not set');

let redis: KeyValueCache;
let h: GatewayHarness;
beforeAll(async () => {
  redis = REDIS_URL ? redisCache({ url: REDIS_URL, keyPrefix: `tg-cache-${randomUUID()}:` }) : (await import('../../runtime/adapters/memory-cache.js')).memoryCache();
  h = await startGatewayHarness({ gateway: { cache: redis } });
});
afterAll(async () => {
  await h?.close();
  await redis?.close();
});
beforeEach(() => {
  h.openai.control.reset();
  h.anthropic.control.reset();
});

async function call(config: object | undefined, body: object = CHAT_BODY, extra: Record<string, string> = {}) {
  const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: gatewayHeaders({ ...(config ? { 'x-portkey-config': JSON.stringify(config) } : { 'x-portkey-virtual-key': 'openai-vk' }), ...extra }),
    body: JSON.stringify(body),
  });
  return { res, status: res.headers.get('x-portkey-cache-status'), text: await res.text() };
}

const cached = { virtual_key: 'openai-vk', cache: { mode: 'simple', max_age: 60 } };

describe('simple response cache (Redis)', () => {
  it('misses, then hits with the same answer and no upstream call; key order does not matter', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `cache ${randomUUID()}` }], temperature: 0 };
    const first = await call(cached, body);
    expect(first.status).toBe('MISS');
    const reordered = { temperature: 0, messages: body.messages, model: body.model };
    const second = await call(cached, reordered);
    expect(second.status).toBe('HIT');
    expect(second.res.status).toBe(200);
    expect(JSON.parse(second.text)).toEqual(JSON.parse(first.text));
    expect(h.openai.control.requests).toHaveLength(1);
  });

  it('expires an entry after max_age seconds', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `ttl ${randomUUID()}` }] };
    const short = { virtual_key: 'openai-vk', cache: { mode: 'simple', max_age: 1 } };
    expect((await call(short, body)).status).toBe('MISS');
    expect((await call(short, body)).status).toBe('HIT');
    await new Promise((r) => setTimeout(r, 2100));
    expect((await call(short, body)).status).toBe('MISS');
    expect(h.openai.control.requests).toHaveLength(2);
  });

  it('refreshes on x-portkey-cache-force-refresh, and separates namespaces', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `refresh ${randomUUID()}` }] };
    expect((await call(cached, body)).status).toBe('MISS');
    expect((await call(cached, body, { 'x-portkey-cache-force-refresh': 'true' })).status).toBe('REFRESH');
    expect(h.openai.control.requests).toHaveLength(2);
    expect((await call(cached, body)).status).toBe('HIT');
    expect((await call(cached, body, { 'x-portkey-cache-namespace': 'team-a' })).status).toBe('MISS');
    expect((await call(cached, body, { 'x-portkey-cache-namespace': 'team-a' })).status).toBe('HIT');
    expect(h.openai.control.requests).toHaveLength(3);
  });

  it('keys on the resolved target: another provider key does not share entries', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `target ${randomUUID()}` }] };
    await call(cached, body);
    const other = await call({ virtual_key: 'backup-vk', cache: { mode: 'simple' } }, body);
    expect(other.status).toBe('MISS');
    expect(JSON.parse(other.text).choices[0].message.content).toBe('Hello from backup');
  });

  it('caches a stream and replays it as SSE (translated providers too)', async () => {
    for (const vk of ['openai-vk', 'anthropic-vk']) {
      const body = { model: 'm', messages: [{ role: 'user', content: `stream ${randomUUID()}` }], stream: true };
      const config = { virtual_key: vk, cache: { mode: 'simple' } };
      const first = await call(config, body);
      expect(first.status).toBe('MISS');
      const second = await call(config, body);
      expect(second.status).toBe('HIT');
      expect(second.res.headers.get('content-type')).toContain('text/event-stream');
      expect(second.text).toBe(first.text);
      expect(second.text.trim().endsWith('data: [DONE]')).toBe(true);
    }
  });

  it('does not cache failures, and says DISABLED without a cache config', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `fail ${randomUUID()}` }] };
    h.openai.control.fail(500, 1);
    expect((await call(cached, body)).res.status).toBe(500);
    const again = await call(cached, body);
    expect(again.status).toBe('MISS');
    expect(again.res.status).toBe(200);
    expect((await call(undefined, body)).status).toBe('DISABLED');
    // Nor a stream that failed in-band after its 200.
    const streamed = { ...body, stream: true };
    h.openai.control.streamErrorEvent = true;
    const broken = await call(cached, streamed);
    expect(broken.text).toContain('"error"');
    h.openai.control.streamErrorEvent = false;
    const retried = await call(cached, streamed);
    expect(retried.status).toBe('MISS');
    expect(retried.text.trim().endsWith('data: [DONE]')).toBe(true);
  });

  it('inherits cache from the parent; a child that sets cache replaces it whole (max_age is not merged in)', async () => {
    const inheritedBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `inherit ${randomUUID()}` }] };
    const replacedBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `replace ${randomUUID()}` }] };
    const inherits = { cache: { mode: 'simple', max_age: 1 }, strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-vk' }] };
    const replaces = { cache: { mode: 'simple', max_age: 1 }, strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-vk', cache: { mode: 'simple' } }] };
    expect((await call(inherits, inheritedBody)).status).toBe('MISS');
    expect((await call(inherits, inheritedBody)).status).toBe('HIT');
    expect((await call(replaces, replacedBody)).status).toBe('MISS');
    expect((await call(replaces, replacedBody)).status).toBe('HIT');
    await new Promise((r) => setTimeout(r, 2100));
    expect((await call(inherits, inheritedBody)).status).toBe('MISS'); // the parent's max_age applied
    expect((await call(replaces, replacedBody)).status).toBe('HIT'); // the child's cache has the default max_age
  });
});
