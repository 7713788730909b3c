import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../../runtime/core/errors.js';
import { checkCustomHost } from '../../runtime/gateway/pipeline/custom-host.js';
import { pickWeighted, run } from '../../runtime/gateway/pipeline/execute.js';
import { buildPlan } from '../../runtime/gateway/pipeline/plan.js';
import { EMPTY_STATE } from '../../runtime/gateway/sync/gateway-state.js';

const prod = { devMode: false, allowlist: ['api.allowed.example', '*.corp.example', 'models.example:8443'] };

describe('custom_host policy', () => {
  it('allows listed hosts, wildcards and host:port entries outside dev mode', () => {
    expect(checkCustomHost('https://api.allowed.example/v1', prod).host).toBe('api.allowed.example');
    expect(checkCustomHost('https://llm.corp.example/v1', prod).hostname).toBe('llm.corp.example');
    expect(checkCustomHost('https://models.example:8443/v1', prod).port).toBe('8443');
  });

  it('refuses unlisted hosts, loopback (even if listed) and non-http schemes', () => {
    for (const url of ['https://evil.example/v1', 'http://127.0.0.1:8080', 'http://[::1]/', 'http://localhost/', 'file:///etc/passwd', 'https://corp.example.evil/']) {
      expect(() => checkCustomHost(url, { ...prod, allowlist: [...prod.allowlist, 'localhost'] })).toThrow(HttpProblem);
    }
    expect(checkCustomHost('http://127.0.0.1:8080/v1', { devMode: true, allowlist: [] }).port).toBe('8080');
  });
});

describe('strategies', () => {
  it('picks by weight and never picks weight 0', () => {
    const items = [{ weight: 0, id: 'a' }, { weight: 1, id: 'b' }, { weight: 3, id: 'c' }];
    expect(pickWeighted(items, () => 0).id).toBe('b');
    expect(pickWeighted(items, () => 0.24).id).toBe('b');
    expect(pickWeighted(items, () => 0.26).id).toBe('c');
    expect(pickWeighted(items, () => 0.999).id).toBe('c');
  });

  it('inherits retry, request_timeout and custom_host; merges override_params', () => {
    const plan = buildPlan(
      {
        retry: { attempts: 2 },
        request_timeout: 1000,
        custom_host: 'http://127.0.0.1:1/v1',
        override_params: { a: 1, b: 1 },
        strategy: { mode: 'fallback' },
        targets: [{ provider: 'openai', override_params: { b: 2 } }, { provider: 'openai', retry: { attempts: 0 } }],
      },
      { state: EMPTY_STATE, workspaceId: null, endpoint: 'chatComplete', policy: { devMode: true, allowlist: [] } },
    );
    if (plan.kind !== 'group') throw new Error('expected a group');
    const [first, second] = plan.children;
    if (first.kind !== 'leaf' || second.kind !== 'leaf') throw new Error('expected leaves');
    expect(first.overrideParams).toEqual({ a: 1, b: 2 });
    expect(first.retry).toEqual({ attempts: 2, onStatusCodes: [429, 500, 502, 503, 504] });
    expect(first.requestTimeoutMs).toBe(1000);
    expect(first.target.baseUrl).toBe('http://127.0.0.1:1/v1');
    expect(second.retry).toBeUndefined();
    expect(second.path).toBe('config.targets[1]');
  });

  it('fallback walks on until a success and drains what it skips', async () => {
    const plan = buildPlan(
      { strategy: { mode: 'fallback' }, targets: [{ provider: 'openai' }, { provider: 'openai' }, { provider: 'openai' }] },
      { state: EMPTY_STATE, workspaceId: null, endpoint: 'chatComplete', policy: { devMode: true, allowlist: [] } },
    );
    const statuses = [500, 200, 200];
    let drained = 0;
    const body = { dump: async () => void drained++ } as any;
    const outcome = await run(plan, async () => ({ kind: 'response', status: statuses.shift()!, headers: {}, body }));
    expect(outcome.leaf.path).toBe('config.targets[1]');
    expect(drained).toBe(1);
  });
});
