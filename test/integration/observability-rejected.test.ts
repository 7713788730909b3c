import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObsHarness, waitFor, type ObsHarness } from '../support/observability.js';

type Any = Record<string, any>;

/**
 * Every request leaves one metric record, also when it fails before routing (bad body, bad
 * header, unknown config). A request without a valid API key has no tenant: it is counted in
 * Prometheus only, never stored.
 */
describe('observability: requests that fail before routing', () => {
  let h: ObsHarness;
  const logs = async (query: string): Promise<Any[]> => ((await (await h.api(`/v1/logs?page_size=500&${query}`)).json()) as Any).data;
  const post = (headers: Record<string, string>, body: string) =>
    fetch(`${h.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  beforeAll(async () => {
    h = await startObsHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a bad body and an unknown config each leave one record with their status', async () => {
    const key = h.cp.adminApiKey;
    const bad = await post({ 'x-portkey-api-key': key, 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-trace-id': 'rej-body', 'x-portkey-metadata': '{"team":"qa"}' }, '{not json');
    expect(bad.status).toBe(400);
    const noConfig = await post({ 'x-portkey-api-key': key, 'x-portkey-config': 'pc-no-such-config', 'x-portkey-trace-id': 'rej-config' }, JSON.stringify({ model: 'gpt-4o-mini', messages: [] }));
    expect(noConfig.status).toBeGreaterThanOrEqual(400);
    expect(noConfig.status).toBeLessThan(500);

    const body = await waitFor(async () => (await logs('trace_id=rej-body'))[0], 'the bad-body record');
    expect(body).toMatchObject({ status: 400, success: false, endpoint: 'chatComplete', metadata: { team: 'qa' }, organisation_id: h.cp.organisationId });
    expect(body.api_key_id).toBeTruthy();
    const config = await waitFor(async () => (await logs('trace_id=rej-config'))[0], 'the unknown-config record');
    expect(config.status).toBe(noConfig.status);
    expect(config.success).toBe(false);

    // Counted once each, and the analytics see them as errors.
    expect((await logs('trace_id=rej-body,rej-config')).length).toBe(2);
    const q = new URLSearchParams({ time_of_generation_min: new Date(Date.now() - 600_000).toISOString(), status_code: '400' });
    const errors = (await (await h.api(`/v1/analytics/graphs/errors?${q}`)).json()) as Any;
    expect(errors.summary.total).toBeGreaterThanOrEqual(1);
  });

  it('a missing or unknown API key is counted in Prometheus, not stored', async () => {
    const before = (await (await fetch(`${h.gateway.url}/v1/telemetry`)).json()) as Any;
    expect((await post({ 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-trace-id': 'rej-nokey' }, '{}')).status).toBe(401);
    expect((await post({ 'x-portkey-api-key': 'made-up-key', 'x-portkey-trace-id': 'rej-badkey' }, '{}')).status).toBe(401);
    const after = (await (await fetch(`${h.gateway.url}/v1/telemetry`)).json()) as Any;
    expect(after.rejected.unauthenticated - before.rejected.unauthenticated).toBe(2);
    const prom = await (await fetch(`${h.gateway.url}/metrics`)).text();
    expect(prom).toMatch(new RegExp(`tollgate_requests_rejected_total\\{reason="unauthenticated"\\} ${after.rejected.unauthenticated}`));

    // A later request's record arrives; the unauthenticated ones never do.
    await post({ 'x-portkey-api-key': h.cp.adminApiKey, 'x-portkey-virtual-key': h.slugs.primary, 'x-portkey-trace-id': 'rej-marker' }, '{bad');
    await waitFor(async () => (await logs('trace_id=rej-marker'))[0], 'the marker record');
    expect(await logs('trace_id=rej-nokey,rej-badkey')).toEqual([]);
  });
});
