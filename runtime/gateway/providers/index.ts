import { anthropic } from './anthropic.js';
import { azureOpenAI } from './azure-openai.js';
import { bedrock } from './bedrock.js';
import { cohere } from './cohere.js';
import { google } from './google.js';
import { openai } from './openai.js';
import { deepseek, fireworks, groq, mistral, ollama, openaiCompatibleGeneric, openrouter, perplexity, together, xai } from './openai-compatible.js';
import type { Endpoint, EndpointSpec, Provider } from './types.js';
import { messagesViaChat } from '../endpoints/messages.js';
import { vertexAI } from './vertex-ai.js';

/** The provider registry: the only place that lists providers. */
const all: Provider[] = [openai, azureOpenAI, anthropic, bedrock, google, vertexAI, mistral, groq, together, fireworks, deepseek, openrouter, perplexity, xai, ollama, cohere, openaiCompatibleGeneric];
const providers = new Map<string, Provider>(all.map((p) => [p.id, p]));
/** Portkey's slugs and common spellings for the same providers. */
const ALIASES: Record<string, string> = { azure: 'azure-openai', mistral: 'mistral-ai', together: 'together-ai', fireworks: 'fireworks-ai', perplexity: 'perplexity-ai', xai: 'x-ai', gemini: 'google', vertex: 'vertex-ai', 'aws-bedrock': 'bedrock' };
for (const [alias, id] of Object.entries(ALIASES)) providers.set(alias, providers.get(id)!);

export function getProvider(id: string): Provider | undefined {
  return providers.get(id);
}

const PROXY: EndpointSpec = { method: '*', path: ({ requestPath }) => requestPath, rawBody: true };

/**
 * The spec a provider serves an endpoint with: its own, or for `/v1/messages` one derived from its
 * chat spec, or for the passthrough the caller's path. Undefined when the provider cannot serve it.
 */
export function endpointSpec(provider: Provider, endpoint: Endpoint): EndpointSpec | undefined {
  const own = provider.endpoints[endpoint];
  if (own) return own;
  if (endpoint === 'proxy') return PROXY;
  if (endpoint === 'messages' && provider.endpoints.chatComplete) return messagesViaChat(provider.endpoints.chatComplete);
  return undefined;
}

export function providerIds(): string[] {
  return all.map((p) => p.id);
}

export type { Endpoint, EndpointSpec, PathContext, Provider, ProviderTarget, SignableRequest, StreamTransformer, TransformContext } from './types.js';
export { unsupportedParam } from './types.js';
