import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObsHarness, waitFor, type ObsHarness } from '../support/observability.js';

type Log = Record<string, any>;

/** Guardrail results reach the metric records (status 246/446) and the request logs (every hook's result). */
describe('guardrail results in the logs and the metrics', () => {
  let h: ObsHarness;
  beforeAll(async () => {
    h = await startObsHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const chat = async (trace: string, cfg: Record<string, unknown>, extra: { stream?: boolean; headers?: Record<string, string> } = {}) => {
    const res = await fetch(`${h.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-portkey-api-key': h.cp.adminApiKey,
        'x-portkey-trace-id': trace,
        'x-portkey-config': JSON.stringify({ virtual_key: h.slugs.primary, ...cfg }),
        ...extra.headers,
      },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'quiet words here' }], ...(extra.stream ? { stream: true } : {}) }),
    });
    return { status: res.status, text: await res.text() };
  };
  const record = (trace: string) =>
    waitFor(async () => ((await (await h.api(`/v1/logs?trace_id=${trace}`)).json()) as { data: Log[] }).data[0], `the record of ${trace}`);
  const log = async (trace: string) => {
    const row = await record(trace);
    return waitFor(async () => {
      const res = await h.api(`/v1/logs/${row.id}`);
      const body = (await res.json()) as Log;
      return res.status === 200 && body.request ? body : undefined;
    }, `the log of ${trace}`);
  };

  it('a denied request (446) is recorded and logged with its hook results; the upstream is never called', async () => {
    const before = h.primary.control.requests.length;
    const denied = await chat('gr-deny', { input_guardrails: [{ 'default.contains': { words: ['quiet'], operator: 'none' }, deny: true }] });
    expect(denied.status).toBe(446);
    expect(h.primary.control.requests.length).toBe(before);
    const row = await record('gr-deny');
    expect(row).toMatchObject({ status: 446, success: false });
    const body = await log('gr-deny');
    expect(body.response.hook_results).toMatchObject({ denied: true, verdict: false, status: 446 });
    expect(body.response.hook_results.before_request_hooks[0].checks[0]).toMatchObject({ id: 'default.contains', verdict: false });
  });

  it('a strict-compliance stream hides hook_results from the client, but its log keeps them, after-hooks included', async () => {
    const streamed = await chat(
      'gr-strict',
      { input_guardrails: [{ 'default.alluppercase': {} }], output_guardrails: [{ 'default.endsWith': { suffix: '!' } }] },
      { stream: true, headers: { 'x-portkey-strict-open-ai-compliance': 'true' } },
    );
    expect(streamed.status).toBe(246);
    expect(streamed.text).not.toContain('hook_results');
    expect(await record('gr-strict')).toMatchObject({ status: 246 });
    const body = await log('gr-strict');
    expect(body.response.hook_results.before_request_hooks[0]).toMatchObject({ verdict: false, deny: false });
    expect(body.response.hook_results.after_request_hooks[0].checks[0]).toMatchObject({ id: 'default.endsWith', verdict: false });
    expect(body.response.hook_results).toMatchObject({ status: 246, denied: false });
  });

  it('a route without hooks logs no hook_results', async () => {
    expect((await chat('gr-none', {})).status).toBe(200);
    expect((await log('gr-none')).hook_results).toBeUndefined();
  });
});
