import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonDiff } from '../../runtime/control-plane/api/json-diff.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

describe('jsonDiff', () => {
  it('names each changed leaf with a JSON Pointer; arrays by position; escapes ~ and /', () => {
    expect(jsonDiff({ a: 1, b: { c: [1, 2] }, 'x/y~z': 1 }, { a: 2, b: { c: [1] }, d: null, 'x/y~z': 1 })).toEqual([
      { op: 'replace', path: '/a', from: 1, to: 2 },
      { op: 'remove', path: '/b/c/1', from: 2 },
      { op: 'add', path: '/d', to: null },
    ]);
    expect(jsonDiff({ 'k/1~': 'a' }, { 'k/1~': 'b' })).toEqual([{ op: 'replace', path: '/k~11~0', from: 'a', to: 'b' }]);
    expect(jsonDiff({ a: [1] }, { a: { 0: 1 } })).toEqual([{ op: 'replace', path: '/a', from: [1], to: { 0: 1 } }]);
    expect(jsonDiff({ same: { deep: [true] } }, { same: { deep: [true] } })).toEqual([]);
  });
});

/** Configs are versioned and diffable: every PUT is a version; any two versions can be compared. */
describe.each(engines)('config versions and diff on %s', (engine) => {
  let t: EngineControlPlane;
  beforeAll(async () => {
    t = await startOn(engine);
  });
  afterAll(async () => t?.stop());

  it('lists versions newest first and diffs two of them (name and config)', async () => {
    const cfg = await t.sdk.configs.create({ name: 'Routing', config: { strategy: { mode: 'fallback' }, targets: [{ provider: 'openai' }, { provider: 'anthropic' }] } });
    await t.sdk.configs.update({ slug: cfg.slug, config: { strategy: { mode: 'fallback' }, targets: [{ provider: 'openai', weight: 1 }], retry: { attempts: 2 } } });
    await t.sdk.configs.update({ slug: cfg.slug, name: 'Routing v3' });
    const versions = (await (await t.api(`/v1/configs/${cfg.slug}/versions?page_size=2`)).json()) as { total: number; data: { version: number; name: string }[]; current_page: number };
    expect(versions).toMatchObject({ total: 3, current_page: 0 });
    expect(versions.data.map((v) => v.version)).toEqual([3, 2]);

    const diff = (await (await t.api(`/v1/configs/${cfg.slug}/diff?from=1&to=2`)).json()) as { from: number; to: number; changes: unknown[] };
    expect(diff).toMatchObject({ from: 1, to: 2 });
    expect(diff.changes).toEqual([
      { op: 'add', path: '/config/retry', to: { attempts: 2 } },
      { op: 'add', path: '/config/targets/0/weight', to: 1 },
      { op: 'remove', path: '/config/targets/1', from: { provider: 'anthropic' } },
    ]);
    // `to` defaults to the latest version; a rename shows as /name.
    const latest = (await (await t.api(`/v1/configs/${cfg.slug}/diff?from=2`)).json()) as { to: number; changes: unknown[] };
    expect(latest).toMatchObject({ to: 3, changes: [{ op: 'replace', path: '/name', from: 'Routing', to: 'Routing v3' }] });
    expect((await (await t.api(`/v1/configs/${cfg.slug}/diff?from=3&to=3`)).json()) as object).toMatchObject({ changes: [] });
  });

  it('400 naming the parameter, 404 for a version or config that does not exist', async () => {
    const cfg = await t.sdk.configs.create({ name: 'One', config: { provider: 'openai' } });
    const bad = await t.api(`/v1/configs/${cfg.slug}/diff?from=zero`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^from/);
    expect((await t.api(`/v1/configs/${cfg.slug}/diff`)).status).toBe(400);
    expect((await t.api(`/v1/configs/${cfg.slug}/diff?from=1&to=9`)).status).toBe(404);
    expect((await t.api('/v1/configs/pc-nope/versions')).status).toBe(404);
  });
});
