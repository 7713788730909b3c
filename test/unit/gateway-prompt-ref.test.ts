import { describe, expect, it } from 'vitest';
import type { SyncApiKey } from '../../runtime/core/sync-contract.js';
import { parsePromptRef, promptRequest, resolvePrompt } from '../../runtime/gateway/endpoints/prompts.js';
import { EMPTY_STATE, type GatewayState } from '../../runtime/gateway/sync/gateway-state.js';

const prompt = {
  id: 'pr-1',
  slug: 'pp-support-1',
  workspace_id: 'ws-a',
  labels: { production: 1, latest: 2, staging: 2 },
  versions: [
    { version: 1, messages: [{ role: 'user', content: 'v1 {{x}}' }], parameters: { temperature: 0.1 }, model: 'm1', virtual_key: 'vk', provider: null },
    { version: 2, messages: [{ role: 'user', content: 'v2 {{x}} {{>p}}' }], parameters: {}, model: 'm2', virtual_key: null, provider: 'openai', tools: [{ type: 'function' }], tool_choice: 'auto' },
  ],
};
const state: GatewayState = { ...EMPTY_STATE, prompts: new Map([[prompt.id, prompt], [prompt.slug, prompt]]), promptPartials: { p: 'P!' } };
const key = (workspace: string | null) => ({ workspace_id: workspace }) as SyncApiKey;

describe('gateway prompt ids, versions and the request a prompt makes', () => {
  it('parses id, @version and @label; the body may select too; the suffix wins', () => {
    expect(parsePromptRef('pp-support-1')).toEqual({ ref: 'pp-support-1' });
    expect(parsePromptRef('pp-support-1@2')).toEqual({ ref: 'pp-support-1', version: 2 });
    expect(parsePromptRef('pp-support-1@staging')).toEqual({ ref: 'pp-support-1', label: 'staging' });
    expect(parsePromptRef('pp-support-1', { version: 1 })).toEqual({ ref: 'pp-support-1', version: 1 });
    expect(parsePromptRef('pp-support-1@latest', { version: 1 })).toEqual({ ref: 'pp-support-1', label: 'latest' });
    expect(() => parsePromptRef('pp-support-1@Bad Label')).toThrow(/neither a version number nor a label/);
  });

  it('resolves production by default, labels and labelled versions; other workspaces get 404', () => {
    expect(resolvePrompt(state, key(null), { ref: 'pr-1' }).version.version).toBe(1);
    expect(resolvePrompt(state, key('ws-a'), { ref: 'pp-support-1', label: 'staging' }).version.version).toBe(2);
    expect(() => resolvePrompt(state, key('ws-b'), { ref: 'pp-support-1' })).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => resolvePrompt(state, key(null), { ref: 'pr-1', version: 7 })).toThrow(/not served/);
    expect(() => resolvePrompt(state, key(null), { ref: 'pr-1', label: 'nope' })).toThrow(/no label "nope"/);
  });

  it('merges model, parameters, tools, then the overrides; renders with partials; 400 names missing variables', () => {
    const v2 = prompt.versions[1]!;
    expect(promptRequest(state, v2, { variables: { x: 'X' }, promptID: 'pp-support-1', temperature: 0.5, stream: true, messages: [] })).toEqual({
      model: 'm2',
      tools: [{ type: 'function' }],
      tool_choice: 'auto',
      temperature: 0.5,
      stream: true,
      messages: [{ role: 'user', content: 'v2 X P!' }],
    });
    expect(() => promptRequest(state, v2, {})).toThrow(expect.objectContaining({ status: 400, message: 'variables: missing prompt variables: x' }));
  });
});
