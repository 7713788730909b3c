import { openAICompatible } from './openai-compatible.js';
import type { Provider } from './types.js';

/**
 * OpenAI, and any OpenAI-compatible server reached through `custom_host`. No transforms: bodies
 * and streams pass through untouched, which keeps this the cheapest path through the gateway.
 */
const base = openAICompatible('openai', 'https://api.openai.com/v1', {
  endpoints: ['chatComplete', 'complete', 'embed', 'listModels', 'imageGenerate', 'createSpeech', 'createTranscription', 'createTranslation', 'responses'],
});

export const openai: Provider = {
  ...base,
  authHeaders(target) {
    const headers = base.authHeaders(target);
    const { openai_organization: org, openai_project: project } = target.options;
    if (typeof org === 'string') headers['openai-organization'] = org;
    if (typeof project === 'string') headers['openai-project'] = project;
    return headers;
  },
};
