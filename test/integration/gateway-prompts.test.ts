import { Portkey } from 'portkey-ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryCache } from '../../runtime/adapters/memory-cache.js';
import { silentLogger } from '../../runtime/core/logger.js';
import { GATEWAY_VERSION_HEADER, SYNC_FEATURES_HEADER, SYNC_PATH, SYNC_PROTOCOL_HEADER, syncDeltaSchema } from '../../runtime/core/sync-contract.js';
import { startGateway, type RunningGateway } from '../../runtime/gateway/server.js';
import type { MockServer } from '../support/mock-base.js';
import { startMockOpenAI } from '../support/mock-openai.js';
import { startTestControlPlane, tempDir, type TestControlPlane } from '../support/cp-harness.js';

const SECRET = 'sk-prompts-upstream-0123456789abcdef';
const messages = (system: string) => JSON.stringify([{ role: 'system', content: system }, { role: 'user', content: '{{question}}' }]);

/**
 * Portkey's prompt API on the gateway: a real control plane (PGlite), a real gateway (synced from
 * it, serving only from its state), a mock OpenAI upstream, and the unmodified portkey-ai SDK.
 */
describe('gateway prompts: render and completions from the synced state', () => {
  let t: TestControlPlane;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let upstream: MockServer;
  let gw: RunningGateway;
  let apiKey: string;
  let slug: string;
  let promptId: string;
  let vkSlug: string;
  let portkey: Portkey;

  beforeAll(async () => {
    tmp = await tempDir();
    t = await startTestControlPlane({ keyringFile: `${tmp.dir}/keyring.json` });
    upstream = await startMockOpenAI({ name: 'upstream', apiKey: SECRET });
    const vk = await t.sdk.virtualKeys.create({ name: 'prompt-vk', provider: 'openai', key: SECRET, custom_host: `${upstream.url}/v1` } as never);
    vkSlug = vk.slug!;
    await t.sdk.prompts.partials.create({ name: 'tone', string: 'Answer in {{language}}.' });
    const created = await t.sdk.prompts.create({
      name: 'Support',
      collection_id: 'c1',
      string: messages('You help {{company}}. {{>tone}}'),
      parameters: { temperature: 0.3, max_tokens: 50 },
      model: 'gpt-4o-mini',
      virtual_key: vk.slug,
    } as never);
    slug = created.slug;
    promptId = created.id;
    apiKey = (await t.sdk.apiKeys.create({ type: 'organisation', 'sub-type': 'service', scopes: ['completions.write'] })).key!;
    gw = await startGateway({
      port: 0,
      controlPlaneUrl: t.cp.url,
      dataPlaneToken: t.cp.dataPlaneToken,
      keyring: t.keyring,
      cache: memoryCache(),
      syncIntervalMs: 600_000,
      push: false,
      devMode: true,
      logger: silentLogger,
      telemetry: { flushIntervalMs: 100 },
    });
    portkey = new Portkey({ baseURL: `${gw.url}/v1`, apiKey });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await t?.cp.close();
    await tmp?.cleanup();
  });

  const vars = { company: 'Acme', language: 'French', question: 'Where is my order?' };

  it('renders through prompts.render (by slug and by id), with partials and overrides', async () => {
    const rendered = await portkey.prompts.render({ promptID: slug, variables: vars, max_tokens: 9 });
    expect(rendered.success).toBe(true);
    expect(rendered.data).toEqual({
      model: 'gpt-4o-mini',
      temperature: 0.3,
      max_tokens: 9,
      messages: [
        { role: 'system', content: 'You help Acme. Answer in French.' },
        { role: 'user', content: 'Where is my order?' },
      ],
    });
    expect((await portkey.prompts.render({ promptID: promptId, variables: vars })).data.max_tokens).toBe(50);
    expect(upstream.control.requests).toHaveLength(0);
  });

  it('completes through prompts.completions.create with the prompt model, parameters and virtual key', async () => {
    upstream.control.reset();
    const reply = (await portkey.prompts.completions.create({ promptID: slug, variables: vars, temperature: 0.9 })) as any;
    expect(reply.choices[0].message.content).toBe('Hello from upstream');
    const sent = upstream.control.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(sent.body).toMatchObject({ model: 'gpt-4o-mini', temperature: 0.9, max_tokens: 50, messages: [{ content: 'You help Acme. Answer in French.' }, { content: 'Where is my order?' }] });
    expect(sent.body.variables).toBeUndefined();
  });

  it('streams through prompts.completions.create({ stream: true })', async () => {
    upstream.control.reset();
    const stream = await portkey.prompts.completions.create({ promptID: slug, variables: vars, stream: true });
    let text = '';
    for await (const chunk of stream as AsyncIterable<any>) text += chunk.choices?.[0]?.delta?.content ?? '';
    expect(text).toBe('Hello from upstream');
    expect(upstream.control.requests[0]!.body).toMatchObject({ stream: true, model: 'gpt-4o-mini' });
  });

  it('answers 400 naming the missing variables, 404 for unknown prompts and labels', async () => {
    const res = await fetch(`${gw.url}/v1/prompts/${slug}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': apiKey },
      body: JSON.stringify({ variables: { company: 'Acme' } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe('variables: missing prompt variables: language, question');
    await expect(portkey.prompts.render({ promptID: slug, variables: { company: 'Acme' } })).rejects.toMatchObject({ status: 400 });
    await expect(portkey.prompts.render({ promptID: 'pp-nope', variables: vars })).rejects.toMatchObject({ status: 404 });
    await expect(portkey.prompts.render({ promptID: `${slug}@nolabel`, variables: vars })).rejects.toMatchObject({ status: 404 });
    const unauth = await fetch(`${gw.url}/v1/prompts/${slug}/render`, { method: 'POST', body: '{}' });
    expect(unauth.status).toBe(401);
  });

  it('records the prompt id and version in the metrics (the virtual key of the prompt, not of a header)', async () => {
    const res = await fetch(`${gw.url}/v1/prompts/${slug}/completions`, {
      method: 'POST',
      // The prompt names its route: a virtual-key header (an SDK default) does not override it.
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': apiKey, 'x-portkey-trace-id': 'trace-prompt-1', 'x-portkey-virtual-key': 'some-other-vk' },
      body: JSON.stringify({ variables: vars }),
    });
    expect(res.status).toBe(200);
    let record: any;
    for (let i = 0; i < 100 && !record; i++) {
      await new Promise((r) => setTimeout(r, 100));
      record = (((await (await t.api('/v1/logs?trace_id=trace-prompt-1')).json()) as { data?: any[] }).data ?? [])[0];
    }
    expect(record).toMatchObject({ prompt_id: promptId, prompt_version: 1, endpoint: 'promptComplete', virtual_key: vkSlug, provider: 'openai', model: 'gpt-4o-mini', status: 200 });
  });

  it('serves the new version after a label move and syncNow(); @version and @label select', async () => {
    await t.sdk.prompts.update(slug, { string: messages('You now help {{company}} kindly. {{>tone}}') } as never);
    await t.sdk.prompts.versions.update(slug, '1', { label_id: 'staging' });
    await gw.syncNow();
    // production still points at v1 until published.
    expect((await portkey.prompts.render({ promptID: slug, variables: vars })).data.messages![0].content).toBe('You help Acme. Answer in French.');
    expect((await portkey.prompts.render({ promptID: `${slug}@latest`, variables: vars })).data.messages![0].content).toBe('You now help Acme kindly. Answer in French.');

    await t.sdk.prompts.publish(slug, { version: 2 });
    await gw.syncNow();
    expect((await portkey.prompts.render({ promptID: slug, variables: vars })).data.messages![0].content).toBe('You now help Acme kindly. Answer in French.');
    expect((await portkey.prompts.render({ promptID: `${slug}@staging`, variables: vars })).data.messages![0].content).toBe('You help Acme. Answer in French.');
    expect((await portkey.prompts.render({ promptID: `${slug}@1`, variables: vars })).data.messages![0].content).toBe('You help Acme. Answer in French.');
    upstream.control.reset();
    await portkey.prompts.completions.create({ promptID: slug, variables: vars });
    expect(upstream.control.requests[0]!.body.messages[0].content).toBe('You now help Acme kindly. Answer in French.');
  });

  it('a workspace key may use only its own workspace’s prompts', async () => {
    const ws = await t.sdk.admin.workspaces.create({ name: 'Other team' });
    const other = (await t.sdk.apiKeys.create({ type: 'workspace', 'sub-type': 'service', scopes: ['completions.write'], workspace_id: ws.id } as never)).key!;
    const own = await t.sdk.prompts.create({ name: 'Theirs', collection_id: 'c2', string: messages('Other {{x}}'), parameters: {}, model: 'm', workspace_id: ws.id } as never);
    await gw.syncNow();
    const theirs = new Portkey({ baseURL: `${gw.url}/v1`, apiKey: other });
    await expect(theirs.prompts.render({ promptID: slug, variables: vars })).rejects.toMatchObject({ status: 404 });
    expect((await theirs.prompts.render({ promptID: own.slug, variables: { x: 'y', question: 'q' } })).data.messages![0].content).toBe('Other y');
  });

  it('prompt, partial, guardrail and price changes arrive as deltas, not full snapshots', async () => {
    await gw.syncNow();
    const before = gw.status().counters;
    const version = gw.status().syncedVersion;

    await t.sdk.prompts.update(slug, { string: messages('Delta {{company}}. {{>tone}}') } as never);
    await t.sdk.prompts.publish(slug, { version: 3 });
    await t.sdk.prompts.partials.update((await t.sdk.prompts.partials.list()).data.find((p: any) => p.name === 'tone').slug, { string: 'Reply in {{language}}!' });
    const guard = (await (await t.api('/v1/guardrails', { method: 'POST', json: { name: 'no-secrets', checks: [{ id: 'default.regexMatch', parameters: { rule: 'sk-' } }] } })).json()) as { id: string };
    expect((await t.api('/v1/pricing/openai/gpt-4o-mini', { method: 'PUT', json: { input: 1, output: 2 } })).status).toBe(200);

    // What the control plane answers a gateway at that version: a delta with just these entities.
    const res = await fetch(`${t.cp.url}${SYNC_PATH}?since=${version}`, {
      headers: { authorization: `Bearer ${t.cp.dataPlaneToken}`, [SYNC_PROTOCOL_HEADER]: '2', [GATEWAY_VERSION_HEADER]: '0.1.0', [SYNC_FEATURES_HEADER]: 'keyed-pricing' },
    });
    expect(res.headers.get('x-tollgate-full-reason')).toBeNull();
    const delta = syncDeltaSchema.parse(await res.json());
    expect(delta.upserts.prompts!.map((p) => p.id)).toEqual([promptId]);
    expect(delta.upserts.prompts![0]).toMatchObject({ labels: { production: 3, latest: 3, staging: 1 } });
    expect(delta.upserts.prompt_partials!.map((p) => p.string)).toEqual(['Reply in {{language}}!']);
    expect(delta.upserts.guardrails!.map((g) => g.id)).toEqual([guard.id]);
    expect(delta.upserts.pricing).toEqual([{ provider: 'openai', model: 'gpt-4o-mini', input: 1, output: 2, cached_input: null }]);
    expect(delta.upserts.api_keys).toBeUndefined();

    // A gateway that does not announce keyed-pricing gets a full snapshot instead.
    const old = await fetch(`${t.cp.url}${SYNC_PATH}?since=${version}`, {
      headers: { authorization: `Bearer ${t.cp.dataPlaneToken}`, [SYNC_PROTOCOL_HEADER]: '2', [GATEWAY_VERSION_HEADER]: '0.1.0' },
    });
    expect(old.headers.get('x-tollgate-full-reason')).toMatch(/keyed-pricing/);
    await old.arrayBuffer();

    await gw.syncNow();
    const after = gw.status().counters;
    expect(after.delta).toBe(before.delta + 1);
    expect(after.full).toBe(before.full);
    expect((await portkey.prompts.render({ promptID: slug, variables: vars })).data.messages![0].content).toBe('Delta Acme. Reply in French!');

    // Deleting the price override and archiving/deleting the prompt: tombstones, still deltas.
    const v2 = gw.status().syncedVersion;
    expect((await t.api('/v1/pricing/openai/gpt-4o-mini', { method: 'DELETE' })).status).toBe(200);
    await t.sdk.prompts.delete(slug);
    await gw.syncNow();
    expect(gw.status().counters.delta).toBe(after.delta + 1);
    expect(gw.status().counters.full).toBe(before.full);
    expect(gw.status().syncedVersion).toBeGreaterThan(v2);
    await expect(portkey.prompts.render({ promptID: slug, variables: vars })).rejects.toMatchObject({ status: 404 });
  });
});
