import { HttpProblem } from '../../core/errors.js';
import type { Endpoint, EndpointSpec, Provider } from './types.js';

/**
 * One factory for the providers that speak OpenAI's wire format: bodies and streams pass through
 * untouched (the cheapest path through the gateway); only the base URL, the endpoints offered and
 * the auth header differ. Each is still its own registry entry.
 */
const PATHS: Partial<Record<Endpoint, EndpointSpec>> = {
  chatComplete: { method: 'POST', path: '/chat/completions' },
  complete: { method: 'POST', path: '/completions' },
  embed: { method: 'POST', path: '/embeddings' },
  listModels: { method: 'GET', path: '/models' },
  imageGenerate: { method: 'POST', path: '/images/generations' },
  createSpeech: { method: 'POST', path: '/audio/speech' },
  createTranscription: { method: 'POST', path: '/audio/transcriptions', rawBody: true },
  createTranslation: { method: 'POST', path: '/audio/translations', rawBody: true },
  responses: { method: 'POST', path: '/responses' },
};

export interface CompatibleOptions {
  endpoints: Endpoint[];
  /** How streamed usage is obtained (see EndpointSpec.streamUsage); default `ask`. */
  streamUsage?: EndpointSpec['streamUsage'];
  /** No default host: `custom_host` is required. */
  requiresCustomHost?: boolean;
}

export function bearerAuth(apiKey: string): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

export function openAICompatible(id: string, defaultBaseUrl: string, opts: CompatibleOptions): Provider {
  const endpoints: Partial<Record<Endpoint, EndpointSpec>> = {};
  for (const endpoint of opts.endpoints) {
    endpoints[endpoint] = endpoint === 'chatComplete' || endpoint === 'complete' ? { ...PATHS[endpoint]!, streamUsage: opts.streamUsage ?? 'ask' } : PATHS[endpoint];
  }
  return {
    id,
    defaultBaseUrl,
    ...(opts.requiresCustomHost
      ? {
          baseUrl: () => {
            throw new HttpProblem(400, `provider "${id}" needs a custom_host (x-portkey-custom-host) naming the server's base URL`);
          },
        }
      : {}),
    endpoints,
    // No key is legitimate for keyless servers (ollama, a local model server behind custom_host).
    authHeaders: (target) => bearerAuth(target.apiKey),
  };
}

const CHAT: Endpoint[] = ['chatComplete', 'listModels'];

export const mistral = openAICompatible('mistral-ai', 'https://api.mistral.ai/v1', { endpoints: [...CHAT, 'embed'], streamUsage: 'always' });
export const groq = openAICompatible('groq', 'https://api.groq.com/openai/v1', { endpoints: [...CHAT, 'createTranscription', 'createTranslation', 'createSpeech'] });
export const together = openAICompatible('together-ai', 'https://api.together.xyz/v1', { endpoints: [...CHAT, 'complete', 'embed', 'imageGenerate'] });
export const fireworks = openAICompatible('fireworks-ai', 'https://api.fireworks.ai/inference/v1', { endpoints: [...CHAT, 'complete', 'embed'] });
export const deepseek = openAICompatible('deepseek', 'https://api.deepseek.com', { endpoints: CHAT });
export const openrouter = openAICompatible('openrouter', 'https://openrouter.ai/api/v1', { endpoints: [...CHAT, 'complete'] });
export const perplexity = openAICompatible('perplexity-ai', 'https://api.perplexity.ai', { endpoints: ['chatComplete'], streamUsage: 'always' });
export const xai = openAICompatible('x-ai', 'https://api.x.ai/v1', { endpoints: [...CHAT, 'complete', 'embed', 'imageGenerate'] });
export const ollama = openAICompatible('ollama', 'http://localhost:11434/v1', { endpoints: [...CHAT, 'complete', 'embed'] });
/** Any OpenAI-compatible server (vLLM, LM Studio, TGI ...) at the custom_host the caller names. */
export const openaiCompatibleGeneric = openAICompatible('openai-compatible', 'http://invalid.invalid', {
  endpoints: ['chatComplete', 'complete', 'embed', 'listModels', 'imageGenerate', 'createSpeech', 'createTranscription', 'createTranslation', 'responses'],
  requiresCustomHost: true,
});
