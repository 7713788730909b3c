import type { Provider } from './types.js';

/**
 * OpenAI, and any OpenAI-compatible server reached through `custom_host`. No transforms: bodies
 * and streams pass through untouched, which keeps this the cheapest path through the gateway.
 */
export const openai: Provider = {
  id: 'openai',
  defaultBaseUrl: 'https://api.openai.com/v1',
  endpoints: {
    chatComplete: { method: 'POST', path: '/chat/completions' },
    embed: { method: 'POST', path: '/embeddings' },
    listModels: { method: 'GET', path: '/models' },
  },
  authHeaders(target) {
    // No key is legitimate for keyless OpenAI-compatible servers (a local model server behind custom_host).
    const headers: Record<string, string> = target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {};
    const { openai_organization: org, openai_project: project } = target.options;
    if (typeof org === 'string') headers['openai-organization'] = org;
    if (typeof project === 'string') headers['openai-project'] = project;
    return headers;
  },
};
