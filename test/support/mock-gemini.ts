import type { ServerResponse } from 'node:http';
import { importSPKI, jwtVerify } from 'jose';
import { countTokens, sendJson, startMockServer, type MockServer } from './mock-base.js';

/**
 * A local server speaking Google's Gemini wire format: the Gemini API (`/v1beta/models/{m}:generateContent`,
 * `:streamGenerateContent?alt=sse`, `:batchEmbedContents`, keyed by `x-goog-api-key`), the same
 * methods under Vertex AI's `/v1/projects/{p}/locations/{r}/publishers/google/models/{m}` (Bearer
 * token) and an OAuth token endpoint (`/token`) that verifies the service account's RS256 JWT.
 */
export const GEMINI_REPLY_TEXT = 'Hello from gemini-mock';

export interface MockGeminiOptions {
  apiKey?: string;
  /** PEM public key of the service account the token endpoint accepts. */
  servicePublicKey?: string;
  serviceEmail?: string;
  accessToken?: string;
  /** `expires_in` of the tokens the token endpoint issues (default 3599). */
  tokenLifetimeSeconds?: number;
}

function geminiError(res: ServerResponse, code: number, message: string): void {
  const status = code === 400 ? 'INVALID_ARGUMENT' : code === 401 ? 'UNAUTHENTICATED' : code === 403 ? 'PERMISSION_DENIED' : code === 429 ? 'RESOURCE_EXHAUSTED' : code === 404 ? 'NOT_FOUND' : 'INTERNAL';
  sendJson(res, code, { error: { code, message, status } });
}

function promptTokens(body: any): number {
  const texts: string[] = [];
  for (const c of body.contents ?? []) for (const p of c.parts ?? []) if (typeof p.text === 'string') texts.push(p.text);
  for (const p of body.systemInstruction?.parts ?? []) texts.push(p.text ?? '');
  return countTokens(texts.join(' '));
}

export interface MockGemini extends MockServer {
  tokenRequests: number;
}

export async function startMockGemini(opts: MockGeminiOptions = {}): Promise<MockGemini> {
  const accessToken = opts.accessToken ?? 'ya29.mock-access-token';
  const state = { tokenRequests: 0 };
  const server = await startMockServer(async (req, res, body, control) => {
    const url = new URL(req.url ?? '/', 'http://mock');
    if (req.method === 'POST' && url.pathname === '/token') {
      state.tokenRequests++;
      const form = new URLSearchParams(typeof body === 'string' ? body : '');
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return sendJson(res, 400, { error: 'unsupported_grant_type' });
      try {
        const key = await importSPKI(opts.servicePublicKey ?? '', 'RS256');
        const { payload } = await jwtVerify(form.get('assertion') ?? '', key, { issuer: opts.serviceEmail, audience: `http://${req.headers.host}/token` });
        if (payload.scope !== 'https://www.googleapis.com/auth/cloud-platform') throw new Error('scope');
      } catch (err) {
        return sendJson(res, 400, { error: 'invalid_grant', error_description: `Invalid JWT: ${(err as Error).message}` });
      }
      return sendJson(res, 200, { access_token: accessToken, expires_in: opts.tokenLifetimeSeconds ?? 3599, token_type: 'Bearer' });
    }
    const vertex = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):(\w+)$/.exec(url.pathname);
    const gemini = /^\/v1beta\/models\/([^/:]+):(\w+)$/.exec(url.pathname);
    if (!vertex && !gemini) return geminiError(res, 404, `Not found: ${url.pathname}`);
    if (vertex && req.headers.authorization !== `Bearer ${accessToken}`) return geminiError(res, 401, 'Request had invalid authentication credentials.');
    if (gemini && opts.apiKey && req.headers['x-goog-api-key'] !== opts.apiKey) return geminiError(res, 400, 'API key not valid. Please pass a valid API key.');
    const failure = control.takeFailure();
    if (failure) return geminiError(res, failure, `mock failing with ${failure}`);
    const model = (vertex ? vertex[3] : gemini![1]);
    const method = vertex ? vertex[4] : gemini![2];
    if (method === 'batchEmbedContents') {
      return sendJson(res, 200, { embeddings: (body.requests ?? []).map((r: any) => ({ values: [r.content.parts[0].text.length / 10, 0.5, 0.25] })) });
    }
    if (method === 'predict') {
      return sendJson(res, 200, { predictions: (body.instances ?? []).map((i: any) => ({ embeddings: { values: [i.content.length / 10, 0.5], statistics: { token_count: countTokens(i.content), truncated: false } } })) });
    }
    if (method !== 'generateContent' && method !== 'streamGenerateContent') return geminiError(res, 404, `unknown method ${method}`);
    if (!Array.isArray(body?.contents) || !body.contents.length) return geminiError(res, 400, '* GenerateContentRequest.contents: contents is not specified');
    if (body.contents.some((c: any) => c.role !== 'user' && c.role !== 'model')) return geminiError(res, 400, 'Please use a valid role: user, model.');
    const decl = body.tools?.[0]?.functionDeclarations?.[0];
    const json = body.generationConfig?.responseMimeType === 'application/json';
    const text = json ? '{"greeting":"hello"}' : GEMINI_REPLY_TEXT;
    const prompt = promptTokens(body);
    const usage = (out: number) => ({ promptTokenCount: prompt, candidatesTokenCount: out, totalTokenCount: prompt + out });
    const modelVersion = model;
    const responseId = 'mockresp01';
    if (method === 'generateContent') {
      const parts = decl ? [{ functionCall: { name: decl.name, args: { city: 'Paris' } } }] : [{ text }];
      return sendJson(res, 200, { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], usageMetadata: usage(countTokens(text)), modelVersion, responseId });
    }
    if (url.searchParams.get('alt') !== 'sse') return geminiError(res, 400, 'this mock streams only with alt=sse');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const events: object[] = [];
    if (decl) events.push({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: decl.name, args: { city: 'Paris' } } }] }, finishReason: 'STOP', index: 0 }], usageMetadata: usage(3), modelVersion, responseId });
    else {
      const pieces = text.split(/(?= )/);
      let out = 0;
      pieces.forEach((piece, i) => {
        out += countTokens(piece);
        events.push({ candidates: [{ content: { role: 'model', parts: [{ text: piece }] }, ...(i === pieces.length - 1 ? { finishReason: 'STOP' } : {}), index: 0 }], usageMetadata: usage(out), modelVersion, responseId });
      });
    }
    for (let i = 0; i < events.length; i++) {
      if (i > 0) await control.betweenChunks(i);
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(events[i])}\r\n\r\n`);
    }
    res.end();
  });
  return Object.defineProperty(server, 'tokenRequests', { get: () => state.tokenRequests }) as MockGemini;
}
