import { anthropic } from './anthropic.js';
import { openai } from './openai.js';
import type { Provider } from './types.js';

/** The provider registry: the only place that lists providers. */
const providers: ReadonlyMap<string, Provider> = new Map([openai, anthropic].map((p) => [p.id, p]));

export function getProvider(id: string): Provider | undefined {
  return providers.get(id);
}

export function providerIds(): string[] {
  return [...providers.keys()];
}

export type { Endpoint, EndpointSpec, Provider, ProviderTarget, StreamTransformer, TransformContext } from './types.js';
