import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ANTHROPIC_SECRET,
  API_KEY,
  BACKUP_SECRET,
  CHAT_BODY,
  EXPIRED_API_KEY,
  OPENAI_SECRET,
  REVOKED_API_KEY,
  defaultSpec,
  gatewayHeaders,
  startGatewayHarness,
  type GatewayHarness,
} from '../support/fixture-gateway.js';
import { virtualKeyContext } from '../../runtime/core/keyring.js';
import type { RunningGateway } from '../../runtime/gateway/server.js';

let h: GatewayHarness;
let strict: RunningGateway;
beforeAll(async () => {
  h = await startGatewayHarness();
  // A second gateway as deployed: no dev mode, one allowlisted host.
  strict = await h.startAnotherGateway({ devMode: false, customHostAllowlist: ['api.allowed.example'] });
});
afterAll(async () => h?.close());
beforeEach(() => h.openai.control.reset());

async function post(headers: Record<string, string>, body: string, url = h.gateway.url, path = '/v1/chat/completions') {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, json: (await res.json()) as any, res };
}

const vk = { 'x-portkey-virtual-key': 'openai-vk' };

describe('bad requests get a 4xx in the documented shape', () => {
  it('400 on malformed JSON, with no upstream call', async () => {
    const { status, json } = await post(gatewayHeaders(vk), '{"model": ');
    expect(status).toBe(400);
    expect(json).toMatchObject({ status: 'failure', message: 'the request body is not valid JSON' });
    expect(json.error.message).toBe(json.message); // the openai SDK reads error.message
    expect(h.openai.control.requests).toHaveLength(0);
  });

  it('400 when the body is not an object', async () => {
    expect((await post(gatewayHeaders(vk), '[1,2]')).status).toBe(400);
  });

  it('400 on an unknown provider', async () => {
    const { status, json } = await post(gatewayHeaders({ 'x-portkey-provider': 'no-such-ai' }), JSON.stringify(CHAT_BODY));
    expect(status).toBe(400);
    expect(json.message).toContain('unknown provider "no-such-ai"');
  });

  it('400 on an invalid inline config, naming the field', async () => {
    const config = { strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-vk', weight: 'heavy' }] };
    const { status, json } = await post(gatewayHeaders({ 'x-portkey-config': JSON.stringify(config) }), JSON.stringify(CHAT_BODY));
    expect(status).toBe(400);
    expect(json.message).toContain('config.targets.0.weight');
  });

  it('400 on a config that is neither JSON nor a saved slug, and on an unknown virtual key', async () => {
    expect((await post(gatewayHeaders({ 'x-portkey-config': '{oops' }), JSON.stringify(CHAT_BODY))).status).toBe(400);
    const missing = await post(gatewayHeaders({ 'x-portkey-config': 'no-such-config' }), JSON.stringify(CHAT_BODY));
    expect(missing.status).toBe(400);
    expect(missing.json.message).toContain('no-such-config');
    const noVk = await post(gatewayHeaders({ 'x-portkey-virtual-key': 'ghost' }), JSON.stringify(CHAT_BODY));
    expect(noVk.status).toBe(400);
    expect(noVk.json.message).toContain('"ghost"');
  });

  it('400 when no route is given', async () => {
    const { status, json } = await post(gatewayHeaders(), JSON.stringify(CHAT_BODY));
    expect(status).toBe(400);
    expect(json.message).toContain('x-portkey-virtual-key');
  });

  it('400 on a custom_host outside dev mode unless allowlisted; loopback refused', async () => {
    const loopback = await post(gatewayHeaders({ 'x-portkey-config': JSON.stringify({ provider: 'openai', api_key: 'k', custom_host: `${h.openai.url}/v1` }) }), JSON.stringify(CHAT_BODY), strict.url);
    expect(loopback.status).toBe(400);
    expect(loopback.json.message).toContain('loopback');
    const other = await post(gatewayHeaders({ 'x-portkey-config': JSON.stringify({ provider: 'openai', api_key: 'k', custom_host: 'http://169.254.169.254/v1' }) }), JSON.stringify(CHAT_BODY), strict.url);
    expect(other.status).toBe(400);
    expect(other.json.message).toContain('allowlist');
    // The virtual key's custom_host (loopback) is held to the same rule.
    expect((await post(gatewayHeaders(vk), JSON.stringify(CHAT_BODY), strict.url)).status).toBe(400);
    expect(h.openai.control.requests).toHaveLength(0);
  });

  it('401 in OpenAI shape for a missing, unknown, revoked or expired API key', async () => {
    for (const key of [undefined, 'pk-unknown', REVOKED_API_KEY, EXPIRED_API_KEY]) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...vk };
      if (key) headers['x-portkey-api-key'] = key;
      const { status, json } = await post(headers, JSON.stringify(CHAT_BODY));
      expect(status).toBe(401);
      expect(json.error.type).toBe('authentication_error');
    }
    expect(h.openai.control.requests).toHaveLength(0);
  });

  it('404 on an unknown route', async () => {
    const res = await fetch(`${h.gateway.url}/v1/nope`);
    expect(res.status).toBe(404);
  });

  it('the health endpoint needs no auth and reports sync state', async () => {
    const res = await fetch(`${h.gateway.url}/v1/health`);
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.sync.syncedVersion).toBe(1);
    expect(body.sync.lastSyncError).toBeNull();
  });
});

describe('secrets never reach logs', () => {
  it('keeps every planted secret out of log lines and the log store', async () => {
    h.openai.control.fail(503, 1);
    await post(gatewayHeaders({ 'x-portkey-config': 'fallback-config' }), JSON.stringify(CHAT_BODY));
    await post(gatewayHeaders({ 'x-portkey-virtual-key': 'anthropic-vk' }), JSON.stringify(CHAT_BODY));
    await post(gatewayHeaders({ 'x-portkey-config': JSON.stringify({ provider: 'openai', api_key: 'sk-inline-secret-0123456789', custom_host: 'http://127.0.0.1:9/v1' }) }), JSON.stringify(CHAT_BODY));
    await post({ 'content-type': 'application/json', 'x-portkey-api-key': 'pk-wrong-secret-0123456789' }, JSON.stringify(CHAT_BODY));
    // A virtual key sealed for another org is refused on use (503), and logged without its secret.
    const spec = defaultSpec(h);
    spec.virtualKeys!.push({ slug: 'broken', provider: 'openai', secret: '', encryptedKey: await h.keyring.encrypt('sk-broken-secret-0123456789', virtualKeyContext('org_other', 'ws', 'broken')) });
    await h.sync.update(spec);
    await h.gateway.syncNow();
    expect(h.gateway.status()).toMatchObject({ syncedVersion: 2, lastSyncError: null });
    expect((await post(gatewayHeaders({ 'x-portkey-virtual-key': 'broken' }), JSON.stringify(CHAT_BODY))).status).toBe(503);
    // Log writes are deliberately off the response path (batched by the telemetry flusher): wait for them.
    let stored = '';
    for (let i = 0; i < 100 && !stored.includes('"status":200'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      stored = await h.readLogStore();
    }
    expect(stored).toContain('"status":200'); // the store did receive the requests
    const everything = h.logLines.join('\n') + stored;
    expect(h.logLines.join('\n')).toContain('virtual key unusable');
    for (const secret of [API_KEY, OPENAI_SECRET, BACKUP_SECRET, ANTHROPIC_SECRET, 'sk-inline-secret-0123456789', 'pk-wrong-secret-0123456789', 'sk-broken-secret-0123456789', h.sync.token]) {
      expect(everything).not.toContain(secret);
    }
  });
});
