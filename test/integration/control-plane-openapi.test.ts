import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneRoutes } from '../../runtime/control-plane/routes.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; required?: string[] } }> }; parameters: { name: string; in: string }[]; security: unknown[] }>>;
}

describe.each(engines)('OpenAPI 3.1 document on %s', (engine) => {
  let t: EngineControlPlane;
  let doc: Doc;
  beforeAll(async () => {
    t = await startOn(engine);
    const res = await fetch(`${t.cp.url}/v1/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
  });
  afterAll(async () => t?.stop());

  it('is public, 3.1, and lists every route of the route table', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const { routeKey } of controlPlaneRoutes) {
      const [method, path] = routeKey.split(' ');
      expect(doc.paths[path]?.[method.toLowerCase()], routeKey).toBeDefined();
    }
  });

  it('request bodies and queries come from the zod schemas the handlers validate with', () => {
    const prompt = doc.paths['/v1/prompts'].post.requestBody!.content['application/json'].schema;
    expect(prompt.required).toContain('name');
    expect(Object.keys(prompt.properties)).toEqual(expect.arrayContaining(['name', 'string', 'messages', 'parameters', 'virtual_key']));
    const key = doc.paths['/v1/api-keys/{type}/{subType}'].post.requestBody!.content['application/json'].schema;
    expect(key.required).toContain('scopes');
    const audit = doc.paths['/v1/audit-logs'].get.parameters.map((p) => p.name);
    expect(audit).toEqual(expect.arrayContaining(['actor_id', 'action', 'start_time', 'current_page', 'page_size']));
    expect(doc.paths['/v1/configs/{slug}'].put.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['slug', 'If-Match']));
    expect(doc.paths['/v1/platform/organisations'].post.security).toEqual([{ platformAdmin: [] }]);
  });
});
