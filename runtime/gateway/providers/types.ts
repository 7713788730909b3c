/**
 * The one interface every provider module implements (after Portkey gateway's providers/).
 * The pipeline only talks to this: adding a provider means one new file plus one line in index.ts.
 */
export type Endpoint = 'chatComplete' | 'embed' | 'listModels';

/** What a resolved target tells the provider: the secret, the base URL and non-secret options. */
export interface ProviderTarget {
  apiKey: string;
  /** Base URL including its path prefix, e.g. `https://api.openai.com/v1` or a custom_host. */
  baseUrl: string;
  options: Readonly<Record<string, unknown>>;
}

/** Per-request context a response/stream transform needs (the model asked for, a stable id). */
export interface TransformContext {
  model: string;
  traceId: string;
}

/** Turns a stream of upstream SSE events into OpenAI-format SSE lines (each a full `data: ...\n\n`). */
export interface StreamTransformer {
  onEvent(event: { event?: string; data: string }): string[];
  /** Called when the upstream body ends; returns the closing lines (usage chunk, `[DONE]`). */
  onEnd(): string[];
}

export interface EndpointSpec {
  method: 'GET' | 'POST';
  /** Appended to the target's base URL. */
  path: string;
  /** Absent: the OpenAI-format body is sent as is (no re-serialisation unless override_params apply). */
  transformRequest?(body: Record<string, unknown>, target: ProviderTarget): Record<string, unknown>;
  /** Absent: the upstream response body is piped through untouched. */
  transformResponse?(body: unknown, ctx: TransformContext): unknown;
  /** Absent: SSE is piped byte for byte. */
  createStreamTransformer?(ctx: TransformContext): StreamTransformer;
}

export interface Provider {
  id: string;
  defaultBaseUrl: string;
  endpoints: Partial<Record<Endpoint, EndpointSpec>>;
  authHeaders(target: ProviderTarget): Record<string, string>;
  /** Maps a provider error body to OpenAI's `{ error: {...} }`; absent when the provider already speaks it. */
  transformError?(status: number, body: unknown): { message: string; type: string; code: string | null } | undefined;
}
