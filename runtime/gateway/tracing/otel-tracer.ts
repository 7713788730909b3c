import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, type Attributes } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { TOLLGATE_VERSION } from '../../core/version.js';
import type { RequestTracer, TracingOptions } from './tracer.js';

/** Response headers the pipeline sets that describe how a call was served (never request credentials). */
const SERVED_HEADERS: ReadonlyArray<[string, string]> = [
  ['x-portkey-trace-id', 'portkey.trace_id'],
  ['x-portkey-provider', 'gen_ai.system'],
  ['x-portkey-cache-status', 'portkey.cache_status'],
  ['x-portkey-retry-attempt-count', 'portkey.retry_attempt_count'],
  ['x-portkey-last-used-option-index', 'portkey.last_used_option_index'],
];

interface Served {
  startTime: number;
  /** The headers object the response's writeHead got. */
  head?: Record<string, unknown>;
}

function lowerCased(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (headers) for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

/**
 * One SERVER span per gateway request, exported over OTLP/HTTP (JSON) in batches by the
 * OpenTelemetry SDK. The span is created when the response closes, from the start time noted when
 * the request arrived, so nothing on the request path waits for tracing. A caller's W3C
 * `traceparent` makes it the parent (and its sampled flag decides); otherwise `sampleRatio` does.
 */
export function otelRequestTracer(opts: TracingOptions): RequestTracer {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.serviceName ?? 'tollgate-gateway', 'service.version': TOLLGATE_VERSION }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.sampleRatio ?? 1) }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.endpoint, headers: opts.headers, timeoutMillis: 10_000 }), {
        maxQueueSize: 4_096,
        maxExportBatchSize: 512,
        scheduledDelayMillis: opts.flushIntervalMs ?? 2_000,
      }),
    ],
  });
  const tracer = provider.getTracer('tollgate-gateway', TOLLGATE_VERSION);
  const propagator = new W3CTraceContextPropagator();
  const started = new WeakMap<ServerResponse, Served>();

  return {
    started(res) {
      const served: Served = { startTime: performance.timeOrigin + performance.now() };
      started.set(res, served);
      // The pipeline passes most headers to writeHead, where getHeader does not see them. Only
      // traced responses pay for this wrapper: tracing is opt-in.
      const writeHead = res.writeHead;
      res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
        for (const arg of args) if (arg && typeof arg === 'object' && !Array.isArray(arg)) served.head = arg as Record<string, unknown>;
        return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
      } as ServerResponse['writeHead'];
    },
    finished(req: IncomingMessage, res: ServerResponse) {
      const served = started.get(res);
      if (served === undefined) return;
      const { startTime } = served;
      const head = lowerCased(served.head);
      const path = (req.url ?? '/').split('?', 1)[0]!;
      const status = res.statusCode;
      const attributes: Attributes = {
        'http.request.method': req.method ?? 'GET',
        'url.path': path,
        'http.response.status_code': status,
      };
      for (const [header, attribute] of SERVED_HEADERS) {
        const value = head[header] ?? res.getHeader(header) ?? req.headers[header];
        if (typeof value === 'string' || typeof value === 'number') attributes[attribute] = value;
      }
      // The client went away before the answer was complete.
      if (!res.writableFinished) attributes['tollgate.aborted'] = true;
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      const span = tracer.startSpan(`${req.method} ${path}`, { kind: SpanKind.SERVER, startTime, attributes }, parent);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
      span.end(performance.timeOrigin + performance.now());
    },
    shutdown: () => provider.shutdown(),
  };
}
