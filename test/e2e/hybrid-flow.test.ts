import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Portkey } from 'portkey-ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localKeyring } from '../../runtime/adapters/local-keyring.js';
import { memoryCache } from '../../runtime/adapters/memory-cache.js';
import { silentLogger } from '../../runtime/core/logger.js';
import { startControlPlane, type RunningControlPlane } from '../../runtime/control-plane/server.js';
import { startGateway, type RunningGateway } from '../../runtime/gateway/server.js';
import type { MockServer } from '../support/mock-base.js';
import { startMockAnthropic } from '../support/mock-anthropic.js';
import { startMockOpenAI } from '../support/mock-openai.js';

/**
 * The whole hybrid loop with real parts only: the control plane (PGlite, real handlers) is driven by
 * the portkey-ai SDK; the gateway syncs from it over HTTP and serves the openai and portkey-ai SDKs.
 */
const PRIMARY_SECRET = 'sk-hybrid-primary-0123456789abcdefghij';
const BACKUP_SECRET = 'sk-hybrid-backup-0123456789abcdefghij';
const ANTHROPIC_SECRET = 'sk-ant-hybrid-0123456789abcdefghij';

describe('control plane → sync → gateway', () => {
  let dir: string;
  let cp: RunningControlPlane;
  let gateway: RunningGateway;
  let primary: MockServer;
  let backup: MockServer;
  let anthropic: MockServer;
  let admin: Portkey;
  const slugs: Record<string, string> = {};

  const openai = (headers: Record<string, string>) =>
    new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'x-portkey-api-key': cp.adminApiKey, ...headers } });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-hybrid-'));
    [primary, backup, anthropic] = await Promise.all([
      startMockOpenAI({ name: 'primary', apiKey: PRIMARY_SECRET }),
      startMockOpenAI({ name: 'backup', apiKey: BACKUP_SECRET }),
      startMockAnthropic({ apiKey: ANTHROPIC_SECRET } as never),
    ]);
    const keyring = await localKeyring(join(dir, 'keyring.json'));
    cp = await startControlPlane({ port: 0, dataDir: dir, keyring, devMode: true, logger: silentLogger });
    admin = new Portkey({ apiKey: cp.adminApiKey, baseURL: `${cp.url}/v1` });

    for (const [name, provider, key, host] of [
      ['primary', 'openai', PRIMARY_SECRET, primary.url],
      ['backup', 'openai', BACKUP_SECRET, backup.url],
      ['claude', 'anthropic', ANTHROPIC_SECRET, anthropic.url],
    ] as const) {
      const vk = (await admin.virtualKeys.create({ name, provider, key, custom_host: `${host}/v1` } as never)) as { slug: string };
      slugs[name] = vk.slug;
    }
    const config = (await admin.configs.create({
      name: 'prod',
      config: { strategy: { mode: 'fallback' }, targets: [{ virtual_key: slugs.primary }, { virtual_key: slugs.backup }] },
    })) as { slug: string };
    slugs.config = config.slug;

    // A long heartbeat: these tests trigger syncs themselves, so every wait is explicit.
    gateway = await startGateway({ port: 0, controlPlaneUrl: cp.url, dataPlaneToken: cp.dataPlaneToken, keyring, cache: memoryCache(), syncIntervalMs: 3_600_000, devMode: true, logger: silentLogger });
  });

  afterAll(async () => {
    await gateway?.close();
    await cp?.close();
    await Promise.all([primary?.close(), backup?.close(), anthropic?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('serves chat and embeddings to the openai SDK through a virtual key synced from the control plane', async () => {
    const client = openai({ 'x-portkey-virtual-key': slugs.primary });
    const reply = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(reply.choices[0].message.content).toBe('Hello from primary');
    const embedding = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(embedding.data[0].embedding.length).toBeGreaterThan(0);
  });

  it('falls back from a 503 target to the healthy one and says so in the headers', async () => {
    primary.control.fail(503, 1);
    const { data, response } = await openai({ 'x-portkey-config': slugs.config })
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0].message.content).toBe('Hello from backup');
    expect(response.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
    expect(response.headers.get('x-portkey-trace-id')).toBeTruthy();
    primary.control.reset();
  });

  it('applies a config updated through the API after the next sync', async () => {
    const client = openai({ 'x-portkey-config': slugs.config });
    const before = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(before.choices[0].message.content).toBe('Hello from primary');

    await admin.configs.update({ slug: slugs.config, config: { virtual_key: slugs.claude, override_params: { model: 'claude-3-5-haiku-latest' } } });
    await gateway.syncNow();

    const after = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(after.choices[0].message.content).toContain('anthropic');
    expect(anthropic.control.requests.at(-1)?.body.model).toBe('claude-3-5-haiku-latest');
    expect(anthropic.control.requests.at(-1)?.headers['x-api-key']).toBe(ANTHROPIC_SECRET);
  });

  it('stops accepting a deleted API key after the next sync', async () => {
    const created = (await admin.apiKeys.create({ type: 'organisation', 'sub-type': 'service', name: 'short-lived', scopes: ['completions.write'] } as never)) as { id: string; key: string };
    await gateway.syncNow();
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'x-portkey-api-key': created.key, 'x-portkey-virtual-key': slugs.primary } });
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).resolves.toBeTruthy();

    await admin.apiKeys.delete({ id: created.id });
    await gateway.syncNow();
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401 });
  });

  it('works with the portkey-ai SDK pointed at the gateway', async () => {
    const portkey = new Portkey({ apiKey: cp.adminApiKey, baseURL: `${gateway.url}/v1`, virtualKey: slugs.backup });
    const reply = (await portkey.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })) as { choices: { message: { content: string } }[] };
    expect(reply.choices[0].message.content).toBe('Hello from backup');
  });

  it('enforces a virtual key rate limit set through the control-plane API, with 429 and headers', async () => {
    const vk = (await admin.virtualKeys.create({ name: 'limited', provider: 'openai', key: PRIMARY_SECRET, custom_host: `${primary.url}/v1`, rate_limits: [{ type: 'requests', unit: 'rpm', value: 2 }] } as never)) as { slug: string };
    await gateway.syncNow();
    const client = openai({ 'x-portkey-virtual-key': vk.slug });
    const ask = () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    await ask();
    await ask();
    const limited = await ask().then(
      () => undefined,
      (err: { status?: number; headers?: Headers }) => err,
    );
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers?.get('retry-after'))).toBeGreaterThan(0);
  });

  it('keeps serving from its synced state while the control plane is down', async () => {
    await cp.close();
    await expect(gateway.syncNow()).resolves.toBeUndefined();
    expect(gateway.status().lastSyncError).toBeTruthy();
    const reply = await openai({ 'x-portkey-virtual-key': slugs.backup }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(reply.choices[0].message.content).toBe('Hello from backup');
  });
});
