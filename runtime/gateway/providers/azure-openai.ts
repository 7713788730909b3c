import { HttpProblem } from '../../core/errors.js';
import type { Endpoint, EndpointSpec, PathContext, Provider } from './types.js';

/**
 * Azure OpenAI: `https://{resource}.openai.azure.com/openai/deployments/{deployment}/...?api-version=`,
 * authenticated with `api-key` or, for Entra ID (AD) auth, `Authorization: Bearer <token>`.
 * Bodies and streams are OpenAI's, so they pass through.
 */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';
export const AZURE_RESPONSES_API_VERSION = '2025-04-01-preview';

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

function deploymentPath(suffix: string) {
  return ({ target, model }: PathContext) => {
    const deployment = str(target.options.azure_deployment_id) ?? str(target.options.deployment_id) ?? model;
    if (!deployment) throw new HttpProblem(400, 'azure-openai needs a deployment: azure_deployment_id (x-portkey-azure-deployment-id)');
    const version = str(target.options.azure_api_version) ?? str(target.options.api_version) ?? AZURE_DEFAULT_API_VERSION;
    return `/openai/deployments/${encodeURIComponent(deployment)}${suffix}?api-version=${encodeURIComponent(version)}`;
  };
}

const spec = (suffix: string, extra: Partial<EndpointSpec> = {}): EndpointSpec => ({ method: 'POST', path: deploymentPath(suffix), ...extra });

const endpoints: Partial<Record<Endpoint, EndpointSpec>> = {
  chatComplete: spec('/chat/completions', { streamUsage: 'ask' }),
  complete: spec('/completions', { streamUsage: 'ask' }),
  embed: spec('/embeddings'),
  imageGenerate: spec('/images/generations'),
  createSpeech: spec('/audio/speech'),
  createTranscription: spec('/audio/transcriptions', { rawBody: true }),
  createTranslation: spec('/audio/translations', { rawBody: true }),
  // The Responses API lives beside the deployments (`/openai/responses`), names the deployment in
  // `model`, and needs a 2025 preview api-version or later.
  responses: {
    method: 'POST',
    path: ({ target }) => `/openai/responses?api-version=${encodeURIComponent(str(target.options.azure_api_version) ?? str(target.options.api_version) ?? AZURE_RESPONSES_API_VERSION)}`,
    transformRequest: (body, target) => {
      const deployment = str(target.options.azure_deployment_id) ?? str(target.options.deployment_id);
      return deployment ? { ...body, model: deployment } : body;
    },
  },
  listModels: {
    method: 'GET',
    path: ({ target }) => `/openai/models?api-version=${encodeURIComponent(str(target.options.azure_api_version) ?? AZURE_DEFAULT_API_VERSION)}`,
  },
};

export const azureOpenAI: Provider = {
  id: 'azure-openai',
  defaultBaseUrl: 'https://invalid.openai.azure.com',
  baseUrl(options) {
    const resource = str(options.azure_resource_name) ?? str(options.resource_name);
    if (!resource || !/^[a-zA-Z0-9-]+$/.test(resource)) {
      throw new HttpProblem(400, 'azure-openai needs azure_resource_name (x-portkey-azure-resource-name): letters, digits and dashes');
    }
    return `https://${resource}.openai.azure.com`;
  },
  endpoints,
  authHeaders(target): Record<string, string> {
    const entra = str(target.options.azure_ad_token) ?? str(target.options.azure_entra_token);
    const mode = str(target.options.azure_auth_mode);
    if (entra) return { authorization: `Bearer ${entra.replace(/^Bearer\s+/i, '')}` };
    if (mode === 'entra' || mode === 'ad') return { authorization: `Bearer ${target.apiKey}` };
    return target.apiKey ? { 'api-key': target.apiKey } : {};
  },
};
