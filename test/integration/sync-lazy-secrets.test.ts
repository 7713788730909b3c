import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localKeyring } from '../../runtime/adapters/local-keyring.js';
import { HttpProblem } from '../../runtime/core/errors.js';
import { virtualKeyContext, type Keyring } from '../../runtime/core/keyring.js';
import { jsonLogger } from '../../runtime/core/logger.js';
import { mergeDelta } from '../../runtime/core/sync-merge.js';
import { buildGatewayState } from '../../runtime/gateway/sync/gateway-state.js';
import { openSecrets, prewarmSecrets } from '../../runtime/gateway/sync/open-secrets.js';
import { CHAT_BODY, defaultSpec, gatewayHeaders, OPENAI_SECRET, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';
import { buildSnapshot, FIXTURE_ORG, FIXTURE_WORKSPACE, type FixtureSpec } from '../support/fixture-sync-server.js';

/** Virtual keys' provider keys are decrypted on first use, once per version, not at sync time. */
let dir: string;
let real: Keyring;
let calls = 0;
const counting: Keyring = {
  encrypt: (p, c) => real.encrypt(p, c),
  decrypt: (c, x) => {
    calls++;
    return real.decrypt(c, x);
  },
};
const lines: string[] = [];
const logger = jsonLogger('gateway', (line) => lines.push(line));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tollgate-lazy-'));
  real = await localKeyring(join(dir, 'keyring.json'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const spec = (secretA = 'sk-lazy-a-0123456789abcdef'): FixtureSpec => ({
  virtualKeys: [
    { slug: 'a', provider: 'openai', secret: secretA },
    { slug: 'b', provider: 'openai', secret: 'sk-lazy-b-0123456789abcdef' },
    { slug: 'c', provider: 'anthropic', secret: 'sk-lazy-c-0123456789abcdef' },
  ],
});

describe('sealed virtual-key secrets', () => {
  it('a delta reuses the maps of the arrays it left untouched and rebuilds the ones it changed', async () => {
    const snapshot = await buildSnapshot(spec(), real, 1);
    const first = await buildGatewayState(snapshot, counting, logger);
    const at = new Date().toISOString();
    const config = { id: 'cfg_reuse', slug: 'pc-reuse', workspace_id: FIXTURE_WORKSPACE, version: 1, config: { virtual_key: 'a' } };
    const next = mergeDelta(snapshot, { version: 2, generated_at: at, upserts: { configs: [config] }, deletes: {} });
    const second = await buildGatewayState(next, counting, logger, first.decrypted, first.parsedConfigs, { snapshot, state: first.state });
    expect(second.state.version).toBe(2);
    expect(second.state.configs).not.toBe(first.state.configs);
    expect(second.state.configs.get('pc-reuse')?.config).toMatchObject({ virtual_key: 'a' });
    expect(second.state.apiKeysByHash).toBe(first.state.apiKeysByHash);
    expect(second.state.virtualKeys).toBe(first.state.virtualKeys);
    expect(second.decrypted).toBe(first.decrypted);

    const b = snapshot.virtual_keys.find((v) => v.slug === 'b')!;
    const third = mergeDelta(next, { version: 3, generated_at: at, upserts: {}, deletes: { virtual_keys: [b.id] } });
    const after = await buildGatewayState(third, counting, logger, second.decrypted, second.parsedConfigs, { snapshot: next, state: second.state });
    expect(after.state.virtualKeys.has('b')).toBe(false);
    expect(after.state.virtualKeys.has('a')).toBe(true);
    expect(after.state.configs).toBe(second.state.configs);
    expect(after.state.apiKeysByHash).toBe(first.state.apiKeysByHash);

    // Same arrays but another organisation: nothing is reused.
    const other = await buildGatewayState({ ...third, organisation_id: 'org_other' }, counting, logger, after.decrypted, after.parsedConfigs, { snapshot: third, state: after.state });
    expect(other.state.apiKeysByHash).not.toBe(after.state.apiKeysByHash);
    expect(other.state.virtualKeys).not.toBe(after.state.virtualKeys);
  });

  it('building a state decrypts nothing; first uses share one decrypt; an unchanged key is never decrypted again', async () => {
    calls = 0;
    const snapshot = await buildSnapshot(spec(), real, 1);
    const first = await buildGatewayState(snapshot, counting, logger);
    expect(calls).toBe(0);
    const a = first.state.virtualKeys.get('a')!;
    expect(a.secret.ready).toBe(false);
    expect(() => a.apiKey).toThrow(HttpProblem);

    const route = { strategy: { mode: 'fallback' as const }, targets: [{ virtual_key: 'a' }, { virtual_key: 'b' }] };
    const p1 = openSecrets(first.state, route, FIXTURE_WORKSPACE);
    const p2 = openSecrets(first.state, { virtual_key: 'a' }, FIXTURE_WORKSPACE);
    expect(p1).toBeInstanceOf(Promise);
    expect(p2).toBeInstanceOf(Promise);
    await Promise.all([p1, p2]);
    expect(calls).toBe(2); // a and b, a once although two requests wanted it
    expect(a.apiKey).toBe('sk-lazy-a-0123456789abcdef');
    expect(openSecrets(first.state, route, FIXTURE_WORKSPACE)).toBeUndefined(); // the hot path: no promise
    // Another workspace's caller does not make this gateway decrypt a key it may not use.
    expect(openSecrets(first.state, { virtual_key: 'c' }, 'ws_other')).toBeUndefined();
    expect(first.state.virtualKeys.get('c')!.secret.ready).toBe(false);

    // The next sync with the same entries keeps the opened secrets.
    const second = await buildGatewayState({ ...snapshot, version: 2 }, counting, logger, first.decrypted);
    expect(second.state.virtualKeys.get('a')!.apiKey).toBe('sk-lazy-a-0123456789abcdef');
    expect(calls).toBe(2);

    // A new provider key for `a` is a new ciphertext: a new version, decrypted again on use.
    const third = await buildGatewayState(await buildSnapshot(spec('sk-lazy-a-rotated-0123456789'), real, 3), counting, logger, second.decrypted);
    expect(third.state.virtualKeys.get('a')!.secret.ready).toBe(false);
    await openSecrets(third.state, { virtual_key: 'a' }, FIXTURE_WORKSPACE);
    expect(third.state.virtualKeys.get('a')!.apiKey).toBe('sk-lazy-a-rotated-0123456789');

    // The background pre-warm opens the rest, and only those.
    const before = calls;
    expect(await prewarmSecrets(third.decrypted.values(), { slice: 1 })).toBe(2);
    expect(calls - before).toBe(2);
    expect([...third.state.virtualKeys.values()].every((vk) => vk.secret.ready)).toBe(true);
  });

  it('a key that does not decrypt fails its first use with a 503 that names no secret, logged once without it', async () => {
    calls = 0;
    lines.length = 0;
    const leaked = 'sk-undecryptable-0123456789';
    const sealed = await real.encrypt(leaked, virtualKeyContext('org_other', FIXTURE_WORKSPACE, 'broken'));
    const snapshot = await buildSnapshot({ virtualKeys: [{ slug: 'broken', provider: 'openai', secret: '', encryptedKey: sealed }] }, real, 1);
    const { state } = await buildGatewayState(snapshot, counting, logger);
    const err = await Promise.resolve(openSecrets(state, { virtual_key: 'broken' }, FIXTURE_WORKSPACE)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpProblem);
    const problem = err as HttpProblem;
    expect(problem.status).toBe(503);
    expect(problem.body).toMatchObject({ error: { code: 'virtual_key_unavailable', type: 'api_error' } });
    expect(JSON.stringify(problem.body)).not.toContain(sealed.slice(0, 40));
    // Within the retry window the answer is remembered: no keyring call, no second log line.
    await expect(openSecrets(state, { virtual_key: 'broken' }, FIXTURE_WORKSPACE)).rejects.toBe(problem);
    expect(calls).toBe(1);
    const warnings = lines.filter((l) => l.includes('virtual key unusable'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"virtualKey":"broken"');
    expect(lines.join('\n')).not.toContain(leaked);
    expect(lines.join('\n')).not.toContain(sealed.slice(0, 40));
    expect(FIXTURE_ORG).not.toBe('org_other');
  });
});

describe('through a gateway', () => {
  let h: GatewayHarness;
  const leaked = 'sk-broken-through-gateway-0123456789';
  beforeAll(async () => {
    h = await startGatewayHarness();
    const s = defaultSpec(h);
    s.virtualKeys!.push({ slug: 'broken', provider: 'openai', secret: '', encryptedKey: await h.keyring.encrypt(leaked, virtualKeyContext('org_other', 'ws', 'broken')) });
    await h.sync.update(s);
    await h.gateway.syncNow();
  });
  afterAll(() => h?.close());

  it('serves a sealed key on first use, and answers 503 for one that does not decrypt, the others unaffected', async () => {
    const ok = await fetch(`${h.gateway.url}/v1/chat/completions`, { method: 'POST', headers: gatewayHeaders({ 'x-portkey-virtual-key': 'openai-vk' }), body: JSON.stringify(CHAT_BODY) });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    expect(h.openai.control.requests.at(-1)?.headers.authorization).toBe(`Bearer ${OPENAI_SECRET}`);

    const bad = await fetch(`${h.gateway.url}/v1/chat/completions`, { method: 'POST', headers: gatewayHeaders({ 'x-portkey-virtual-key': 'broken' }), body: JSON.stringify(CHAT_BODY) });
    const text = await bad.text();
    expect(bad.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'virtual_key_unavailable' } });
    expect(text).not.toContain(leaked);
    expect(h.logLines.join('\n')).toContain('virtual key unusable');
    expect(h.logLines.join('\n')).not.toContain(leaked);
  });
});
