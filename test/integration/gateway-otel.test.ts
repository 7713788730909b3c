import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../runtime/gateway/server.js';
import { createRequestTracer, tracingOptionsFromEnv } from '../../runtime/gateway/tracing/tracer.js';
import { API_KEY, OPENAI_SECRET, startGatewayHarness, type GatewayHarness } from '../support/fixture-gateway.js';

/** A local OTLP/HTTP collector: what `POST /v1/traces` (JSON encoding) receives. */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status?: { code?: number };
}
let collector: Server;
const received: Array<{ headers: Record<string, unknown>; service: string | undefined; spans: ExportedSpan[] }> = [];
const spans = () => received.flatMap((r) => r.spans);
const attr = (span: ExportedSpan, key: string) => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? (value.stringValue ?? value.intValue ?? value.boolValue) : undefined;
};

let h: GatewayHarness;
let traced: RunningGateway;
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

beforeAll(async () => {
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const json = JSON.parse(body);
      for (const rs of json.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value?.stringValue;
        received.push({ headers: req.headers, service, spans: rs.scopeSpans.flatMap((s: { spans: ExportedSpan[] }) => s.spans) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  h = await startGatewayHarness();
  const options = tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-token', OTEL_SERVICE_NAME: 'edge-gateway' });
  traced = await h.startAnotherGateway({ tracing: await createRequestTracer({ ...options!, flushIntervalMs: 100 }) });
});
afterAll(async () => {
  await h?.close();
  await new Promise((r) => collector?.close(r));
});

const sdk = (headers: Record<string, string>) =>
  new OpenAI({ apiKey: 'unused', baseURL: `${traced.url}/v1`, defaultHeaders: { 'x-portkey-api-key': API_KEY, 'x-portkey-virtual-key': 'openai-vk', ...headers }, maxRetries: 0 });

async function spanFor(portkeyTrace: string): Promise<ExportedSpan> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const span = spans().find((s) => attr(s, 'portkey.trace_id') === portkeyTrace);
    if (span) return span;
    if (Date.now() > deadline) throw new Error(`no span for ${portkeyTrace}; got ${JSON.stringify(spans().map((s) => s.name))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('OpenTelemetry trace export (optional)', () => {
  it('exports a SERVER span per request, as a child of the caller’s traceparent, to the OTLP endpoint', async () => {
    const t0 = Date.now();
    const completion = await sdk({ traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, 'x-portkey-trace-id': 'otel-child' }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]!.message.content).toBe('Hello from primary');
    const span = await spanFor('otel-child');
    expect(span).toMatchObject({ traceId: CALLER_TRACE, parentSpanId: CALLER_SPAN, name: 'POST /v1/chat/completions', kind: 2 });
    expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.spanId).not.toBe(CALLER_SPAN);
    expect(attr(span, 'http.response.status_code')).toBe(200);
    expect(attr(span, 'http.request.method')).toBe('POST');
    expect(attr(span, 'gen_ai.system')).toBe('openai');
    const startMs = Number(BigInt(span.startTimeUnixNano) / 1_000_000n);
    expect(startMs).toBeGreaterThanOrEqual(t0 - 5);
    expect(BigInt(span.endTimeUnixNano)).toBeGreaterThan(BigInt(span.startTimeUnixNano));
    const batch = received.find((r) => r.spans.includes(span))!;
    expect(batch.service).toBe('edge-gateway');
    expect(batch.headers.authorization).toBe('Bearer collector-token');
  });

  it('starts a new trace without a traceparent, marks 5xx as errors, and never exports credentials', async () => {
    await sdk({ 'x-portkey-trace-id': 'otel-root' }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const root = await spanFor('otel-root');
    expect(root.parentSpanId ?? '').toBe('');
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.traceId).not.toBe(CALLER_TRACE);

    h.openai.control.fail(500, 1);
    await expect(sdk({ 'x-portkey-trace-id': 'otel-failed' }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow();
    const failed = await spanFor('otel-failed');
    expect(attr(failed, 'http.response.status_code')).toBeGreaterThanOrEqual(500);
    expect(failed.status?.code).toBe(2);
    expect(root.status?.code ?? 0).not.toBe(2);

    const everything = JSON.stringify(received);
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain(OPENAI_SECRET);
  });

  it('is off unless an OTLP endpoint is configured, and refuses a malformed one', () => {
    expect(tracingOptionsFromEnv({})).toBeUndefined();
    expect(tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c.example/custom/path' })).toMatchObject({ endpoint: 'https://c.example/custom/path' });
    expect(() => tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(/http\(s\) URL/);
    expect(() => tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/from 0 to 1/);
    expect(() => tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'nonsense' })).toThrow(/key1=value1/);
  });
});
