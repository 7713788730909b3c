import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HttpProblem, openAIError } from '../../core/errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Reads the whole request body (requests are small next to responses; routing needs the parsed JSON). */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpProblem(413, `request body is larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** 401s use OpenAI's shape: the SDKs turn it into AuthenticationError with our message. */
export function unauthorized(message: string): HttpProblem {
  return new HttpProblem(401, message, openAIError(message, 'authentication_error', 'invalid_api_key'));
}
