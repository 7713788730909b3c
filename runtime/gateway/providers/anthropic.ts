import { ANTHROPIC_PARAMS, toAnthropicRequest } from './anthropic-request.js';
import { fromAnthropicResponse } from './anthropic-response.js';
import { anthropicStreamTransformer } from './anthropic-stream.js';
import type { Provider } from './types.js';
import { anthropicNativeMessages } from '../endpoints/messages.js';

export const ANTHROPIC_VERSION = '2023-06-01';

/** Anthropic's Messages API behind OpenAI's chat format, streaming included. */
export const anthropic: Provider = {
  id: 'anthropic',
  defaultBaseUrl: 'https://api.anthropic.com/v1',
  endpoints: {
    chatComplete: {
      method: 'POST',
      path: '/messages',
      transformRequest: (body) => toAnthropicRequest(body),
      transformResponse: (body, ctx) => fromAnthropicResponse(body, ctx.model),
      createStreamTransformer: anthropicStreamTransformer,
      supportedParams: ANTHROPIC_PARAMS,
    },
    messages: anthropicNativeMessages,
    listModels: {
      method: 'GET',
      path: '/models',
      transformResponse: (body) => ({
        object: 'list',
        data: ((body as { data?: { id: string; created_at?: string }[] })?.data ?? []).map((m) => ({
          id: m.id,
          object: 'model',
          created: m.created_at ? Math.floor(Date.parse(m.created_at) / 1000) : 0,
          owned_by: 'anthropic',
        })),
      }),
    },
  },
  authHeaders(target) {
    const version = target.options.anthropic_version;
    const headers: Record<string, string> = {
      'x-api-key': target.apiKey,
      'anthropic-version': typeof version === 'string' ? version : ANTHROPIC_VERSION,
    };
    const beta = target.options.anthropic_beta;
    if (typeof beta === 'string') headers['anthropic-beta'] = beta;
    return headers;
  },
  transformError(_status, body) {
    const error = (body as { error?: { type?: string; message?: string } } | undefined)?.error;
    if (!error?.message) return undefined;
    return { message: error.message, type: error.type ?? 'api_error', code: error.type ?? null };
  },
};
