import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

/** Optimistic versioning: GET gives the version (body and ETag); a stale If-Match or `version` gets 409. */
describe.each(engines)('optimistic versioning on %s', (engine) => {
  let t: EngineControlPlane;
  beforeAll(async () => {
    t = await startOn(engine);
  });
  afterAll(async () => t?.stop());

  async function resources() {
    const ws = (await (await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'V' } })).json()) as { id: string };
    const cfg = await t.sdk.configs.create({ name: 'v', config: { provider: 'openai' } });
    const vk = await t.sdk.virtualKeys.create({ name: 'v', provider: 'openai', key: 'sk-versioned-0000000000' });
    const key = await t.sdk.apiKeys.create({ type: 'organisation', 'sub-type': 'service', scopes: ['configs.read'] });
    return [
      { path: `/v1/admin/workspaces/${ws.id}`, patch: { description: 'x' } },
      { path: `/v1/configs/${cfg.slug}`, patch: { name: 'v2' } },
      { path: `/v1/virtual-keys/${vk.slug}`, patch: { note: 'n' } },
      { path: `/v1/api-keys/${key.id}`, patch: { name: 'k2' } },
    ];
  }

  it('every updatable resource: ETag on GET, 200 with the current version, 409 with a stale one', async () => {
    for (const { path, patch } of await resources()) {
      const got = await t.api(path);
      const v = ((await got.json()) as { version: number }).version;
      expect(got.headers.get('etag'), path).toBe(`"${v}"`);
      const ok = await t.api(path, { method: 'PUT', json: patch, headers: { 'if-match': `"${v}"` } });
      expect(ok.status, path).toBe(200);
      expect(ok.headers.get('etag'), path).toBe(`"${v + 1}"`);
      const stale = await t.api(path, { method: 'PUT', json: patch, headers: { 'if-match': `"${v}"` } });
      expect(stale.status, path).toBe(409);
      expect(((await stale.json()) as { message: string }).message).toMatch(/changed by someone else/);
      const staleBody = await t.api(path, { method: 'PUT', json: { ...patch, version: v } });
      expect(staleBody.status, path).toBe(409);
      expect((await t.api(path, { method: 'PUT', json: { ...patch, version: v + 1 } })).status, path).toBe(200);
      // No version at all: last writer wins, as Portkey clients expect.
      expect((await t.api(path, { method: 'PUT', json: patch })).status, path).toBe(200);
    }
  });

  it('400 for a malformed If-Match or version, 404 still wins for a missing object', async () => {
    const cfg = await t.sdk.configs.create({ name: 'bad', config: { provider: 'openai' } });
    expect((await t.api(`/v1/configs/${cfg.slug}`, { method: 'PUT', json: { name: 'x' }, headers: { 'if-match': 'abc' } })).status).toBe(400);
    const res = await t.api(`/v1/configs/${cfg.slug}`, { method: 'PUT', json: { name: 'x', version: 'one' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^version:/);
    expect((await t.api('/v1/configs/pc-missing', { method: 'PUT', json: { name: 'x' }, headers: { 'if-match': '"1"' } })).status).toBe(404);
  });

  it('two concurrent writers with the same version: exactly one wins', async () => {
    const vk = await t.sdk.virtualKeys.create({ name: 'race', provider: 'openai', key: 'sk-race-000000000000' });
    const statuses = await Promise.all(
      [1, 2, 3].map((i) => t.api(`/v1/virtual-keys/${vk.slug}`, { method: 'PUT', json: { note: `w${i}`, version: 1 } }).then((r) => r.status)),
    );
    expect(statuses.sort()).toEqual([200, 409, 409]);
  });
});
