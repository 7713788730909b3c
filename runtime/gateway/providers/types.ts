/**
 * The one interface every provider module implements (after Portkey gateway's providers/).
 * The pipeline only talks to this: adding a provider means one new file plus one line in index.ts.
 */
export type Endpoint =
  | 'chatComplete'
  | 'complete'
  | 'embed'
  | 'listModels'
  | 'imageGenerate'
  | 'createSpeech'
  | 'createTranscription'
  | 'createTranslation'
  | 'responses'
  /** Anthropic's Messages format in (`/v1/messages`), any provider out. */
  | 'messages'
  /** The catch-all `/v1/*` passthrough to the selected provider. */
  | 'proxy';

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
  /** The prompt as text, for counting tokens when a provider reports no usage in a stream. */
  promptText?: () => string;
}

/** What a path builder sees: providers that put the model (or the stream flag) in the URL need it. */
export interface PathContext {
  model: string;
  stream: boolean;
  target: ProviderTarget;
  /** The caller's path after `/v1` (with its query), for the passthrough. */
  requestPath: string;
}

/** Turns a stream of upstream events into OpenAI-format SSE lines (each a full `data: ...\n\n`). */
export interface StreamTransformer {
  onEvent(event: { event?: string; data: string }): string[];
  /** Called when the upstream body ends; returns the closing lines (usage chunk, `[DONE]`). */
  onEnd(): string[];
}

export interface EndpointSpec {
  /** `*`: the caller's method (the passthrough). */
  method: 'GET' | 'POST' | '*';
  /** Appended to the target's base URL (may carry a query string). */
  path: string | ((ctx: PathContext) => string);
  /** Absent: the OpenAI-format body is sent as is (no re-serialisation unless override_params apply). */
  transformRequest?(body: Record<string, unknown>, target: ProviderTarget): Record<string, unknown>;
  /** Absent: the upstream response body is piped through untouched. */
  transformResponse?(body: unknown, ctx: TransformContext): unknown;
  /** Absent: SSE is piped byte for byte. */
  createStreamTransformer?(ctx: TransformContext): StreamTransformer;
  /**
   * The OpenAI request fields this endpoint maps. Absent: the body passes through (OpenAI-compatible).
   * Present: any other field is a 400 unless `strict_open_ai_compliance: false`, which drops it.
   */
  supportedParams?: ReadonlySet<string>;
  /** The body is not JSON (multipart audio): forwarded byte for byte with the caller's content-type. */
  rawBody?: boolean;
  /**
   * How this provider reports usage in a stream: `ask` adds `stream_options.include_usage`, `always`
   * means it sends usage unasked, `count` means the gateway counts tokens itself. Default `always`.
   */
  streamUsage?: 'ask' | 'always' | 'count';
  /** Reshapes an error body (OpenAI's shape) for callers of a non-OpenAI format (`/v1/messages`). */
  shapeError?(body: unknown, status: number): unknown;
}

/** The request as it will be sent, for providers whose auth depends on it (SigV4) or is async (OAuth tokens). */
export interface SignableRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface Provider {
  id: string;
  defaultBaseUrl: string;
  /** Base URL from the target's options when there is no custom_host (Azure resource, AWS region, ...). Throws HttpProblem(400) when options are missing. */
  baseUrl?(options: Readonly<Record<string, unknown>>): string;
  /** Other URLs the provider will call for this target (an OAuth token endpoint): held to the custom_host policy. */
  extraUrls?(options: Readonly<Record<string, unknown>>): string[];
  endpoints: Partial<Record<Endpoint, EndpointSpec>>;
  authHeaders(target: ProviderTarget): Record<string, string>;
  /** Async auth (SigV4 signing, OAuth access tokens); when present it is used instead of authHeaders. */
  signRequest?(request: SignableRequest, target: ProviderTarget): Promise<Record<string, string>>;
  /** Maps a provider error body to OpenAI's `{ error: {...} }`; absent when the provider already speaks it. */
  transformError?(status: number, body: unknown): { message: string; type: string; code: string | null } | undefined;
  /** Providers whose stream is not SSE (Bedrock's AWS event stream). */
  streamFormat?: 'sse' | 'aws-eventstream';
}

/** A clear 400 for a field the provider cannot honour. */
export function unsupportedParam(provider: string, field: string): string {
  return `provider "${provider}" does not support the parameter "${field}"; remove it or send strict_open_ai_compliance: false (x-portkey-strict-open-ai-compliance: false) to drop unsupported fields`;
}
