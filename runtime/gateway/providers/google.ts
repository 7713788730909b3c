import { HttpProblem } from '../../core/errors.js';
import { fromGeminiEmbedResponse, fromGeminiResponse, geminiError, geminiStreamTransformer, GEMINI_PARAMS, toGeminiEmbedRequest, toGeminiRequest } from './gemini-transform.js';
import type { PathContext, Provider } from './types.js';

/** The model id as Gemini wants it in a path: `gemini-2.0-flash` (a leading `models/` is accepted). */
export function geminiModel(model: string): string {
  const id = model.replace(/^models\//, '');
  if (!id || !/^[\w.\-@/]+$/.test(id)) throw new HttpProblem(400, `"${model}" is not a valid Gemini model name`);
  return id;
}

/** Google's Gemini API (generativelanguage.googleapis.com), keyed with `x-goog-api-key`. */
export const google: Provider = {
  id: 'google',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  endpoints: {
    chatComplete: {
      method: 'POST',
      path: ({ model, stream }: PathContext) => `/models/${geminiModel(model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
      transformRequest: (body) => toGeminiRequest(body),
      transformResponse: fromGeminiResponse,
      createStreamTransformer: geminiStreamTransformer,
      supportedParams: GEMINI_PARAMS,
    },
    embed: {
      method: 'POST',
      path: ({ model }) => `/models/${geminiModel(model)}:batchEmbedContents`,
      transformRequest: (body) => toGeminiEmbedRequest(body, `models/${geminiModel(String(body.model ?? ''))}`),
      transformResponse: fromGeminiEmbedResponse,
      supportedParams: new Set(['model', 'input', 'dimensions', 'encoding_format', 'user']),
    },
  },
  authHeaders: (target) => ({ 'x-goog-api-key': target.apiKey }),
  transformError: geminiError,
};
