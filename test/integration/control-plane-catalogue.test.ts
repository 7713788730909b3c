import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncSnapshotSchema } from '../../runtime/core/sync-contract.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

describe.each(engines)('guardrails and pricing on %s', (engine) => {
  let t: EngineControlPlane;
  beforeAll(async () => {
    t = await startOn(engine);
  });
  afterAll(async () => t?.stop());
  const snapshot = async () => syncSnapshotSchema.parse(await (await fetch(`${t.cp.url}/v1/sync/snapshot`, { headers: { authorization: `Bearer ${t.cp.dataPlaneToken}` } })).json());

  it('guardrail definitions: CRUD, 400 naming the field, 409 stale, synced', async () => {
    const body = { name: 'No SSNs', checks: [{ id: 'default.regexMatch', parameters: { rule: '\\d{3}-\\d{2}-\\d{4}' } }], actions: { deny: true } };
    const created = (await (await t.api('/v1/guardrails', { method: 'POST', json: body })).json()) as { id: string; slug: string; version: number };
    expect(created.slug).toMatch(/^gr-no-ssns-/);
    const bad = await t.api('/v1/guardrails', { method: 'POST', json: { ...body, checks: [{ id: 'nodot' }] } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^checks\.0\.id:/);
    expect((await t.api(`/v1/guardrails/${created.slug}`, { method: 'PUT', json: { name: 'SSN', version: 1 } })).status).toBe(200);
    expect((await t.api(`/v1/guardrails/${created.slug}`, { method: 'PUT', json: { name: 'SSN', version: 1 } })).status).toBe(409);
    expect((await t.api('/v1/guardrails')).ok).toBe(true);
    expect((await snapshot()).guardrails?.find((g) => g.id === created.id)).toMatchObject({ name: 'SSN', actions: { deny: true }, version: 2 });
    expect((await t.api(`/v1/guardrails/${created.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await t.api(`/v1/guardrails/${created.id}`)).status).toBe(404);
  });

  it('pricing: shipped defaults, per-org overrides (no redeploy), synced to gateways', async () => {
    const list = (await (await t.api('/v1/pricing?provider=openai&model=gpt-4o-mini')).json()) as { data: { input: number; source: string }[]; unit: string };
    expect(list.unit).toBe('USD per 1M tokens');
    expect(list.data).toEqual([expect.objectContaining({ input: 0.15, output: 0.6, cached_input: 0.075, source: 'default' })]);
    expect((await t.api('/v1/pricing/openai/gpt-4o-mini', { method: 'PUT', json: { input: 0.1, output: 0.5 } })).status).toBe(200);
    const bad = await t.api('/v1/pricing/openai/gpt-4o-mini', { method: 'PUT', json: { input: -1, output: 0.5 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^input:/);
    expect((await t.api('/v1/pricing/acme/custom-model', { method: 'PUT', json: { input: 1, output: 2, cached_input: 0.5 } })).status).toBe(200);
    const synced = (await snapshot()).pricing!;
    expect(synced.find((p) => p.model === 'gpt-4o-mini')).toEqual({ provider: 'openai', model: 'gpt-4o-mini', input: 0.1, output: 0.5, cached_input: null });
    expect(synced.find((p) => p.model === 'custom-model')).toMatchObject({ input: 1, cached_input: 0.5 });
    expect((await t.api('/v1/pricing/openai/gpt-4o-mini', { method: 'DELETE' })).status).toBe(200);
    expect((await snapshot()).pricing!.find((p) => p.model === 'gpt-4o-mini')?.input).toBe(0.15);
    expect((await t.api('/v1/pricing/openai/gpt-4o-mini', { method: 'DELETE' })).status).toBe(404);
  });
});
