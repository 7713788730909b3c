import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

/** Every bad input gets a 4xx in Portkey's `{ status: 'failure', message }` shape, never a 5xx. */
describe.each(engines)('control plane error answers on %s', (engine) => {
  let t: EngineControlPlane;

  beforeAll(async () => {
    t = await startOn(engine, { maxBodyBytes: 64 * 1024 });
  });
  afterAll(async () => t?.stop());

  async function expectFailure(res: Response, status: number, message: RegExp) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as { status: string; message: string };
    expect(body.status).toBe('failure');
    expect(body.message).toMatch(message);
  }

  it('401 without a key, with an unknown key, and with a revoked key', async () => {
    await expectFailure(await fetch(`${t.cp.url}/v1/configs`), 401, /x-portkey-api-key/);
    await expectFailure(await t.api('/v1/configs', { headers: { 'x-portkey-api-key': 'tg-not-a-real-key' } }), 401, /invalid API key/);
    const created = (await (await t.api('/v1/api-keys/organisation/service', { method: 'POST', json: { name: 'tmp', scopes: ['configs.list'] } })).json()) as { id: string; key: string };
    expect((await t.api('/v1/configs', { headers: { 'x-portkey-api-key': created.key } })).status).toBe(200);
    await t.api(`/v1/api-keys/${created.id}`, { method: 'PUT', json: { status: 'revoked' } });
    await expectFailure(await t.api('/v1/configs', { headers: { 'x-portkey-api-key': created.key } }), 401, /invalid API key/);
  });

  it('401 for an expired key', async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const created = (await (await t.api('/v1/api-keys/organisation/service', { method: 'POST', json: { scopes: ['configs.list'], expires_at: soon } })).json()) as { key: string };
    expect((await t.api('/v1/configs', { headers: { 'x-portkey-api-key': created.key } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    await expectFailure(await t.api('/v1/configs', { headers: { 'x-portkey-api-key': created.key } }), 401, /invalid API key/);
  });

  it('400 for malformed JSON and for a non-object body', async () => {
    await expectFailure(await t.api('/v1/configs', { method: 'POST', body: '{"name": "x", ', headers: { 'content-type': 'application/json' } }), 400, /not valid JSON/);
    await expectFailure(await t.api('/v1/configs', { method: 'POST', json: [1, 2] }), 400, /JSON object/);
  });

  it('400 naming the field for bad config bodies', async () => {
    await expectFailure(await t.api('/v1/configs', { method: 'POST', json: { config: { provider: 'openai' } } }), 400, /^name: /);
    await expectFailure(
      await t.api('/v1/configs', { method: 'POST', json: { name: 'x', config: { strategy: { mode: 'fallback' }, targets: [{ provider: 'openai', weight: 'heavy' }] } } }),
      400,
      /config\.targets\.0\.weight/,
    );
    await expectFailure(await t.api('/v1/configs', { method: 'POST', json: { name: 'x', config: { strategy: { mode: 'roundrobin' }, targets: [{ provider: 'openai' }] } } }), 400, /config\.strategy\.mode/);
    await expectFailure(await t.api('/v1/configs', { method: 'POST', json: { name: 'x', config: '{not json' } }), 400, /^config: not valid JSON/);
    await expectFailure(await t.api('/v1/configs', { method: 'POST', json: { name: 'x', config: { provider: 'openai' }, workspace_id: 'nope' } }), 400, /^workspace_id:/);
  });

  it('400 naming the field for bad virtual-key, API-key and workspace bodies, without echoing the secret', async () => {
    const secret = 'sk-should-never-be-echoed-123456';
    const res = await t.api('/v1/virtual-keys', { method: 'POST', json: { name: 'x', provider: 'Open AI!', key: secret } });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toMatch(/provider/);
    expect(text).not.toContain(secret);
    await expectFailure(await t.api('/v1/virtual-keys', { method: 'POST', json: { name: 'x', provider: 'openai' } }), 400, /^key: /);
    await expectFailure(await t.api('/v1/api-keys/organisation/service', { method: 'POST', json: { name: 'x' } }), 400, /^scopes: /);
    await expectFailure(await t.api('/v1/api-keys/organisation/service', { method: 'POST', json: { scopes: [], expires_at: '2001-01-01T00:00:00Z' } }), 400, /^expires_at: /);
    await expectFailure(await t.api('/v1/api-keys/team/service', { method: 'POST', json: { scopes: [] } }), 400, /organisation\|workspace/);
    await expectFailure(await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: '' } }), 400, /^name: /);
  });

  it('404 for unknown ids and unknown routes; 405 for a known path with the wrong method', async () => {
    await expectFailure(await t.api('/v1/configs/pc-missing'), 404, /pc-missing/);
    await expectFailure(await t.api('/v1/virtual-keys/missing', { method: 'PUT', json: { name: 'y' } }), 404, /missing/);
    await expectFailure(await t.api('/v1/api-keys/ak-missing', { method: 'DELETE' }), 404, /ak-missing/);
    await expectFailure(await t.api('/v1/admin/workspaces/missing'), 404, /missing/);
    await expectFailure(await t.api('/v1/nothing-here'), 404, /no route/);
    await expectFailure(await t.api('/v1/sync/snapshot', { method: 'POST' }), 405, /not allowed/);
  });

  it('403 when a key lacks the scope or tries to grant scopes it lacks', async () => {
    const limited = (await (await t.api('/v1/api-keys/workspace/service', { method: 'POST', json: { scopes: ['api_keys.create', 'configs.read'] } })).json()) as { key: string };
    const headers = { 'x-portkey-api-key': limited.key };
    await expectFailure(await t.api('/v1/configs', { headers }), 403, /configs\.list/);
    await expectFailure(await t.api('/v1/api-keys/workspace/service', { method: 'POST', headers, json: { scopes: ['configs.delete'] } }), 403, /configs\.delete/);
    await expectFailure(await t.api('/v1/api-keys/organisation/service', { method: 'POST', headers, json: { scopes: ['configs.read'] } }), 403, /organisation API key/);
  });

  it('413 for a body over the limit', async () => {
    const res = await t.api('/v1/configs', { method: 'POST', json: { name: 'x', config: { provider: 'openai', note: 'a'.repeat(70 * 1024) } } });
    await expectFailure(res, 413, /exceeds/);
  });

  it('409 when a slug is taken', async () => {
    await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'Dup', slug: 'dup' } });
    await expectFailure(await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'Dup', slug: 'dup' } }), 409, /already exists/);
  });
});
