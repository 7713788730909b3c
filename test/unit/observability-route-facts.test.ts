import { describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../runtime/core/config-schema.js';
import type { GatewayState, ResolvedConfig } from '../../runtime/gateway/sync/gateway-state.js';
import { RouteFactsCache, type RouteHeaders } from '../../runtime/gateway/telemetry/route-facts.js';
import type { RequestLogEntry } from '../../runtime/gateway/telemetry/types.js';

const fallback: GatewayConfig = {
  strategy: { mode: 'fallback' },
  targets: [{ virtual_key: 'vk-primary' }, { virtual_key: 'vk-backup' }],
} as GatewayConfig;

function stateWith(version: number, configVersion: number): GatewayState {
  const resolved: ResolvedConfig = { id: 'cfg-1', slug: 'pc-route', workspaceId: 'ws-cfg', version: configVersion, config: fallback };
  return {
    organisationId: 'org-1',
    version,
    apiKeysByHash: new Map([['hash-1', { id: 'key-1', workspace_id: 'ws-1', defaults: { metadata: { env: 'prod' } } } as never]]),
    configs: new Map([['pc-route', resolved]]),
    virtualKeys: new Map(),
  };
}

const entry = (over: Partial<RequestLogEntry> = {}): RequestLogEntry => ({
  traceId: 't', organisationId: 'org-1', workspaceId: 'ws-1', apiKeyId: 'key-1', method: 'POST', path: '/v1/chat/completions',
  status: 200, provider: 'openai', model: 'gpt-4o-mini', stream: false, retries: 0, lastUsedOptionIndex: 'config.targets[1]',
  startedAt: 0, durationMs: 1, config: fallback, ...over,
});

// Header values arrive as new strings on every request: the cache must compare them by value.
const headers = (): RouteHeaders => ({ config: ['pc', 'route'].join('-'), virtualKey: undefined, provider: undefined, optionIndex: ['config', 'targets[1]'].join('.') });

describe('telemetry: route facts are computed once per route', () => {
  it('shares one facts object across requests of a route, with every route field resolved', () => {
    const cache = new RouteFactsCache(null);
    const state = stateWith(1, 3);
    const first = cache.get(state, entry(), headers());
    expect(first).toMatchObject({
      organisation_id: 'org-1', workspace_id: 'ws-1', api_key_id: 'key-1', virtual_key: 'vk-backup', config_id: 'cfg-1', config_version: 3,
      provider: 'openai', model: 'gpt-4o-mini', endpoint: 'chatComplete', method: 'POST', last_used_option_index: 'config.targets[1]',
      fellBack: true, cost_unknown: false, log_location: null, metadataDefaults: { env: 'prod' },
    });
    expect(cache.get(state, entry(), headers())).toBe(first);
    expect(cache.misses).toBe(1);
  });

  it('recomputes when the config is published as a new version (a new synced state)', () => {
    const cache = new RouteFactsCache('customer');
    const v1 = cache.get(stateWith(1, 3), entry(), headers());
    const v2 = cache.get(stateWith(2, 4), entry(), headers());
    expect(v1.config_version).toBe(3);
    expect(v2.config_version).toBe(4);
    expect(v2.log_location).toBe('customer');
    expect(cache.misses).toBe(2);
  });

  it('tells routes apart by model, leaf, prompt and key, and keeps the recent ones', () => {
    const cache = new RouteFactsCache(null);
    const state = stateWith(1, 3);
    const base = cache.get(state, entry(), headers());
    const otherModel = cache.get(state, entry({ model: 'no-such-model-xyz' }), headers());
    expect(otherModel.model).toBe('no-such-model-xyz');
    expect(otherModel.cost_unknown).toBe(true);
    const firstLeaf = cache.get(state, entry({ lastUsedOptionIndex: 'config.targets[0]' }), { ...headers(), optionIndex: 'config.targets[0]' });
    expect(firstLeaf).toMatchObject({ virtual_key: 'vk-primary', fellBack: false, last_used_option_index: 'config.targets[0]' });
    const prompt = cache.get(state, entry({ promptId: 'pp-1', promptVersion: 2, endpoint: 'promptComplete' }), headers());
    expect(prompt).toMatchObject({ prompt_id: 'pp-1', prompt_version: 2, endpoint: 'promptComplete' });
    const otherKey = cache.get(state, entry({ apiKeyId: 'key-2', workspaceId: null }), headers());
    // Not the caller's workspace (unknown key): the saved config's.
    expect(otherKey).toMatchObject({ api_key_id: 'key-2', workspace_id: 'ws-cfg' });
    expect(cache.misses).toBe(5);
    expect(cache.get(state, entry(), headers())).toBe(base);
    expect(cache.misses).toBe(5);
  });
});
