import { importPKCS8, SignJWT } from 'jose';
import { request } from 'undici';
import { HttpProblem } from '../../core/errors.js';
import { fromGeminiResponse, geminiError, geminiStreamTransformer, GEMINI_PARAMS, toGeminiRequest } from './gemini-transform.js';
import { geminiModel } from './google.js';
import type { PathContext, Provider, ProviderTarget } from './types.js';

/**
 * Vertex AI's Gemini models. Auth is a service-account key (JSON) exchanged for an OAuth access
 * token (a self-signed RS256 JWT, the jwt-bearer grant), cached until a minute before it expires;
 * without a service account the target's key is taken as an access token.
 */
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

interface ServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

export function serviceAccountOf(options: Readonly<Record<string, unknown>>): ServiceAccount | undefined {
  const raw = options.vertex_service_account_json;
  if (raw === undefined || raw === null || raw === '') return undefined;
  let sa: unknown = raw;
  if (typeof raw === 'string') {
    try {
      sa = JSON.parse(raw);
    } catch {
      throw new HttpProblem(400, 'vertex_service_account_json is not valid JSON');
    }
  }
  const account = sa as Partial<ServiceAccount>;
  if (!account || typeof account.client_email !== 'string' || typeof account.private_key !== 'string') {
    throw new HttpProblem(400, 'vertex_service_account_json needs client_email and private_key');
  }
  return account as ServiceAccount;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}
const tokens = new Map<string, Promise<CachedToken>>();

async function fetchToken(sa: ServiceAccount): Promise<CachedToken> {
  const tokenUri = sa.token_uri ?? GOOGLE_TOKEN_URI;
  const now = Math.floor(Date.now() / 1000);
  const key = await importPKCS8(sa.private_key, 'RS256');
  const assertion = await new SignJWT({ scope: SCOPE })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(sa.private_key_id ? { kid: sa.private_key_id } : {}) })
    .setIssuer(sa.client_email)
    .setSubject(sa.client_email)
    .setAudience(tokenUri)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(key);
  const res = await request(tokenUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
  });
  const json = (await res.body.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error_description?: string };
  if (res.statusCode !== 200 || !json.access_token) {
    // Never the assertion or key: only the status and Google's own description.
    throw new HttpProblem(401, `vertex-ai: the service account token exchange failed (${res.statusCode}${json.error_description ? `: ${json.error_description}` : ''})`);
  }
  return { token: json.access_token, expiresAt: Date.now() + (json.expires_in ?? 3600) * 1000 };
}

/** One in-flight exchange per account; reused until 60 s before expiry. */
export async function vertexAccessToken(sa: ServiceAccount): Promise<string> {
  const cacheKey = `${sa.client_email}|${sa.private_key_id ?? ''}|${sa.token_uri ?? ''}`;
  let entry = tokens.get(cacheKey);
  if (entry) {
    const cached = await entry.catch(() => undefined);
    if (cached && cached.expiresAt - 60_000 > Date.now()) return cached.token;
    if (tokens.get(cacheKey) === entry) tokens.delete(cacheKey);
  }
  entry = tokens.get(cacheKey) ?? fetchToken(sa);
  tokens.set(cacheKey, entry);
  entry.catch(() => tokens.delete(cacheKey));
  return (await entry).token;
}

function location(target: ProviderTarget): { project: string; region: string } {
  const project = str(target.options.vertex_project_id) ?? str((serviceAccountOf(target.options) as { project_id?: string } | undefined)?.project_id);
  if (!project) throw new HttpProblem(400, 'vertex-ai needs vertex_project_id (x-portkey-vertex-project-id)');
  return { project, region: str(target.options.vertex_region) ?? 'us-central1' };
}

const modelPath = (target: ProviderTarget, model: string) => {
  const { project, region } = location(target);
  return `/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(region)}/publishers/google/models/${geminiModel(model)}`;
};

export const vertexAI: Provider = {
  id: 'vertex-ai',
  defaultBaseUrl: 'https://us-central1-aiplatform.googleapis.com',
  baseUrl(options) {
    const region = str(options.vertex_region) ?? 'us-central1';
    if (!/^[a-z0-9-]+$/.test(region)) throw new HttpProblem(400, `vertex_region "${region}" is not a region name`);
    return region === 'global' ? 'https://aiplatform.googleapis.com' : `https://${region}-aiplatform.googleapis.com`;
  },
  extraUrls(options) {
    const sa = serviceAccountOf(options);
    return sa?.token_uri && sa.token_uri !== GOOGLE_TOKEN_URI ? [sa.token_uri] : [];
  },
  endpoints: {
    chatComplete: {
      method: 'POST',
      path: ({ model, stream, target }: PathContext) => `${modelPath(target, model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
      transformRequest: (body) => toGeminiRequest(body),
      transformResponse: fromGeminiResponse,
      createStreamTransformer: geminiStreamTransformer,
      supportedParams: GEMINI_PARAMS,
    },
    embed: {
      // Vertex text-embedding models answer `:predict` with `instances[].content`.
      method: 'POST',
      path: ({ model, target }) => `${modelPath(target, model)}:predict`,
      transformRequest: (body) => {
        const inputs: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
        if (inputs.some((i) => typeof i !== 'string')) throw new HttpProblem(400, 'Vertex AI embeddings take string inputs only');
        return { instances: inputs.map((content) => ({ content })), ...(typeof body.dimensions === 'number' ? { parameters: { outputDimensionality: body.dimensions } } : {}) };
      },
      transformResponse: (body, ctx) => {
        const predictions = ((body as { predictions?: { embeddings?: { values?: number[]; statistics?: { token_count?: number } } }[] })?.predictions ?? []);
        const tokens = predictions.reduce((n, p) => n + (p.embeddings?.statistics?.token_count ?? 0), 0);
        return { object: 'list', data: predictions.map((p, index) => ({ object: 'embedding', index, embedding: p.embeddings?.values ?? [] })), model: ctx.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
      },
      supportedParams: new Set(['model', 'input', 'dimensions', 'encoding_format', 'user']),
    },
  },
  authHeaders: (target) => ({ authorization: `Bearer ${target.apiKey}` }),
  async signRequest(_request, target) {
    const sa = serviceAccountOf(target.options);
    return { authorization: `Bearer ${sa ? await vertexAccessToken(sa) : target.apiKey}` };
  },
  transformError: geminiError,
};
