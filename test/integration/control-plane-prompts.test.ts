import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncSnapshotSchema } from '../../runtime/core/sync-contract.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

describe.each(engines)('prompts and partials on %s', (engine) => {
  let t: EngineControlPlane;
  beforeAll(async () => {
    t = await startOn(engine);
  });
  afterAll(async () => t?.stop());

  const messages = (system: string) => JSON.stringify([{ role: 'system', content: system }, { role: 'user', content: '{{question}}' }]);

  it('versions, movable labels, publish and rollback through the portkey-ai SDK', async () => {
    const partial = await t.sdk.prompts.partials.create({ name: 'rules', string: 'Always answer in {{language}}.' });
    expect(partial.slug).toMatch(/^ppa-rules-/);
    const created = await t.sdk.prompts.create({ name: 'Support', collection_id: 'c1', string: messages('You help {{company}}. {{>rules}}'), parameters: { temperature: 0.2 }, model: 'gpt-4o-mini', virtual_key: 'openai-prod' });
    expect(created).toMatchObject({ version: 1 });
    const v1 = await t.sdk.prompts.retrieve(created.slug);
    expect(v1).toMatchObject({ version: 1, labels: { latest: 1, production: 1 }, model: 'gpt-4o-mini', virtual_key: 'openai-prod', parameters: { temperature: 0.2 } });

    const updated = await t.sdk.prompts.update(created.slug, { string: messages('You help {{company}} kindly. {{>rules}}') });
    expect(updated.version).toBe(2);
    // production still serves v1 until published; latest moved.
    expect(await t.sdk.prompts.retrieve(created.slug)).toMatchObject({ version: 1, labels: { latest: 2, production: 1 } });
    expect((await t.api(`/v1/prompts/${created.slug}?label=latest`).then((r) => r.json())) as object).toMatchObject({ version: 2 });

    await t.sdk.prompts.publish(created.slug, { version: 2 });
    expect(await t.sdk.prompts.retrieve(created.slug)).toMatchObject({ version: 2, labels: { production: 2 } });
    await t.sdk.prompts.versions.update(created.slug, '1', { label_id: 'staging' });
    const versions = (await t.sdk.prompts.versions.list(created.slug)) as { data: { version: number }[] };
    expect(versions.data.map((v) => v.version)).toEqual([2, 1]);
    expect(await t.sdk.prompts.versions.retrieve(created.slug, '1')).toMatchObject({ version: 1, labels: { staging: 1 } });
    // Rollback: publish v1 again.
    await t.sdk.prompts.publish(created.slug, { version: 1 });
    expect(await t.sdk.prompts.retrieve(created.slug)).toMatchObject({ version: 1 });

    // Stale write: the prompt's ETag is its latest version.
    expect((await t.api(`/v1/prompts/${created.slug}`, { method: 'PUT', json: { string: 'x', version: 1 } })).status).toBe(409);
    expect((await t.sdk.prompts.list({ search: 'supp' })).data.map((p: { slug: string }) => p.slug)).toContain(created.slug);
  });

  it('renders with the shared renderer; missing variables and unknown partials are 400', async () => {
    await t.sdk.prompts.partials.create({ name: 'greeting', string: 'Hello {{name}}!' });
    const p = await t.sdk.prompts.create({ name: 'Greeter', collection_id: 'c1', string: messages('{{>greeting}}'), parameters: { max_tokens: 5 }, model: 'm' });
    const rendered = await t.sdk.prompts.render({ promptID: p.slug, variables: { name: 'Ann', question: 'Hi?' } });
    expect(rendered.data).toMatchObject({ messages: [{ role: 'system', content: 'Hello Ann!' }, { role: 'user', content: 'Hi?' }], model: 'm', max_tokens: 5 });
    const missing = await t.api(`/v1/prompts/${p.slug}/render`, { method: 'POST', json: { variables: { name: 'Ann' } } });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { message: string }).message).toBe('variables: missing prompt variables: question');
    const bad = await t.api('/v1/prompts', { method: 'POST', json: { name: 'x', string: '{{>no-such-partial}}' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^string: unknown prompt partial: no-such-partial/);
    expect((await t.api('/v1/prompts', { method: 'POST', json: { name: 'x' } })).status).toBe(400);
    expect((await t.api('/v1/prompts/pp-missing')).status).toBe(404);
  });

  it('partials: update makes a new published version; makeDefault goes back', async () => {
    const part = await t.sdk.prompts.partials.create({ name: 'sig', string: 'v1' });
    await t.sdk.prompts.partials.update(part.slug, { string: 'v2' });
    expect(await t.sdk.prompts.partials.retrieve(part.slug)).toMatchObject({ string: 'v2', version: 2 });
    expect(((await t.sdk.prompts.partials.versions.list(part.slug)) as { data: unknown[] }).data).toHaveLength(2);
    await t.sdk.prompts.partials.publish(part.slug, { version: 1 });
    expect(await t.sdk.prompts.partials.retrieve(part.slug)).toMatchObject({ string: 'v1', version: 1 });
    await t.sdk.prompts.partials.delete(part.slug);
    expect((await t.api(`/v1/prompts/partials/${part.slug}`)).status).toBe(404);
  });

  it('the sync snapshot carries prompts (labelled versions) and published partials', async () => {
    const p = await t.sdk.prompts.create({ name: 'Synced', collection_id: 'c1', string: messages('S {{x}}'), parameters: {}, model: 'm' });
    await t.sdk.prompts.update(p.slug, { string: messages('S2 {{x}}') });
    const res = await fetch(`${t.cp.url}/v1/sync/snapshot`, { headers: { authorization: `Bearer ${t.cp.dataPlaneToken}` } });
    const snap = syncSnapshotSchema.parse(await res.json());
    const entry = snap.prompts?.find((e) => e.slug === p.slug);
    expect(entry?.labels).toEqual({ latest: 2, production: 1 });
    expect(entry?.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(snap.prompt_partials?.map((x) => x.name)).toEqual(expect.arrayContaining(['rules', 'greeting']));
  });
});
