import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_BODY, gatewayHeaders, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

/** One Prometheus scrape covers sync, telemetry, guardrails and limits. */
describe('GET /metrics', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness();
  });
  afterAll(async () => h?.close());

  it('exposes sync, telemetry, guardrail and rate-limit series, and counts what happened', async () => {
    const config = { virtual_key: 'openai-vk', before_request_hooks: [{ type: 'guardrail', id: 'inline', checks: [{ id: 'default.regexMatch', parameters: { rule: 'hello', not: true } }] }] };
    const res = await fetch(`${h.gateway.url}/v1/chat/completions`, { method: 'POST', headers: gatewayHeaders({ 'x-portkey-config': JSON.stringify(config) }), body: JSON.stringify(CHAT_BODY) });
    expect(res.status).toBeLessThan(300);
    await res.arrayBuffer();

    const text = await (await fetch(`${h.gateway.url}/metrics`)).text();
    expect(text).toMatch(/^tollgate_sync_age_seconds \d/m);
    expect(text).toContain('# TYPE tollgate_telemetry_dropped_total counter');
    expect(text).toMatch(/^tollgate_guardrail_requests_total [1-9]/m);
    expect(text).toMatch(/^tollgate_rate_limit_admitted_total \d+$/m);
  });
});
