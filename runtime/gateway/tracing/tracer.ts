import type { IncomingMessage, ServerResponse } from 'node:http';

/** Optional OpenTelemetry trace export of gateway requests (docs/observability.md, "Traces"). */
export interface TracingOptions {
  /** The collector's OTLP/HTTP traces URL, e.g. `http://otel-collector:4318/v1/traces`. */
  endpoint: string;
  /** Headers sent to the collector, e.g. an authorization header. @default none */
  headers?: Record<string, string>;
  /** Share of traces started here that are sampled (0..1); a caller's `traceparent` sampled flag wins. @default 1 */
  sampleRatio?: number;
  /** The `service.name` resource attribute. @default 'tollgate-gateway' */
  serviceName?: string;
  /** How often batched spans are sent. @default 2000 */
  flushIntervalMs?: number;
}

/** Records one span per request: `started` when it arrives, `finished` when its response closes. */
export interface RequestTracer {
  started(res: ServerResponse): void;
  finished(req: IncomingMessage, res: ServerResponse): void;
  /** Sends what is still batched. */
  shutdown(): Promise<void>;
}

/**
 * Tracing settings from the standard OpenTelemetry variables, or undefined when no traces endpoint is
 * set (the default: no export). OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is;
 * OTEL_EXPORTER_OTLP_ENDPOINT gets `/v1/traces` appended, as the OTLP spec says.
 */
export function tracingOptionsFromEnv(env: NodeJS.ProcessEnv): TracingOptions | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || env.OTEL_TRACES_EXPORTER?.trim() === 'none') return undefined;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : '');
  if (!endpoint) return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`the OpenTelemetry traces endpoint must be an http(s) URL such as http://collector:4318/v1/traces, got "${endpoint.slice(0, 120)}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the OpenTelemetry traces endpoint must use http or https, got "${url.protocol}"`);
  const ratioRaw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const sampleRatio = ratioRaw ? Number(ratioRaw) : undefined;
  if (sampleRatio !== undefined && !(sampleRatio >= 0 && sampleRatio <= 1)) throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "${ratioRaw}"`);
  return {
    endpoint: url.toString(),
    headers: parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS),
    sampleRatio,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || undefined,
  };
}

/** `key1=value1,key2=value2`, values URL-encoded (the OTLP exporter spec's format). */
function parseHeaders(raw: string | undefined): Record<string, string> | undefined {
  if (!raw?.trim()) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error('OTEL_EXPORTER_OTLP_HEADERS must look like key1=value1,key2=value2');
    headers[pair.slice(0, at).trim().toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

/** The OpenTelemetry SDK is loaded only when tracing is configured. */
export async function createRequestTracer(opts: TracingOptions): Promise<RequestTracer> {
  const { otelRequestTracer } = await import('./otel-tracer.js');
  return otelRequestTracer(opts);
}
