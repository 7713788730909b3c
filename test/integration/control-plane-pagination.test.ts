import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneRoutes } from '../../runtime/control-plane/routes.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';
import { objectsIn } from '../support/cp-fixtures.js';
import { fillPath } from '../support/cp-isolation.js';

/** The admin lists of the route table (this handlers): every GET that names a collection. */
const ADMIN_HANDLERS = new Set(['workspaces', 'virtual-keys', 'configs', 'api-keys', 'users', 'prompts', 'catalogue', 'audit-logs']);
const lists = controlPlaneRoutes.filter((r) => ADMIN_HANDLERS.has(r.handler) && r.routeKey.startsWith('GET ') && !r.routeKey.endsWith('}') && !r.routeKey.endsWith('/versions') && !r.routeKey.endsWith('/diff'));

interface ListBody {
  object: string;
  total: number;
  data: { id?: string; slug?: string; model?: string; provider?: string }[];
  current_page: number;
  page_size: number;
}
const idOf = (o: ListBody['data'][number]) => JSON.stringify(o);

/** Portkey's pagination (`current_page` from 0, `page_size`) on every admin list, on both engines. */
describe.each(engines)('pagination of every admin list on %s', (engine) => {
  let t: EngineControlPlane;
  let values: Record<string, string>;
  beforeAll(async () => {
    t = await startOn(engine);
    const ws = ((await (await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'Pages' } })).json()) as { id: string }).id;
    for (let i = 0; i < 3; i++) values = await objectsIn(t, ws);
    await t.api('/v1/admin/workspaces', { method: 'POST', json: { name: 'Pages 2' } });
  });
  afterAll(async () => t?.stop());

  it('covers the lists it should', () => {
    expect(lists.map((r) => r.routeKey)).toEqual(expect.arrayContaining(['GET /v1/admin/workspaces', 'GET /v1/configs', 'GET /v1/admin/users/invites', 'GET /v1/guardrails', 'GET /v1/audit-logs', 'GET /v1/pricing']));
  });

  it.each(lists.map((r) => r.routeKey))('%s: pages of page_size from current_page 0, no overlap, total, 400 naming a bad parameter', async (routeKey) => {
    const { path } = fillPath(routeKey, values);
    const get = async (q: string) => {
      const res = await t.api(`${path}?${q}`);
      return { status: res.status, body: (await res.json()) as ListBody };
    };
    const all = await get('page_size=1000');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ object: 'list', current_page: 0, page_size: 1000 });
    expect(all.body.total).toBe(all.body.data.length);
    expect(all.body.total).toBeGreaterThanOrEqual(3);
    const pages: ListBody[] = [];
    for (let page = 0; page * 2 < all.body.total; page++) {
      const p = await get(`page_size=2&current_page=${page}`);
      expect(p.body).toMatchObject({ current_page: page, page_size: 2, total: all.body.total });
      expect(p.body.data.length).toBe(Math.min(2, all.body.total - page * 2));
      pages.push(p.body);
    }
    // Together the pages are the whole list, in the same order, each item once.
    expect(pages.flatMap((p) => p.data.map(idOf))).toEqual(all.body.data.map(idOf));
    expect((await get(`page_size=2&current_page=${pages.length}`)).body.data).toEqual([]);
    for (const bad of ['page_size=0', 'page_size=1001', 'current_page=-1', 'page_size=two']) {
      const r = await t.api(`${path}?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(((await r.json()) as { message: string }).message, bad).toMatch(new RegExp(`^${bad.split('=')[0]}`));
    }
  });
});
