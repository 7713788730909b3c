import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { badRequest } from './problems.js';

/**
 * Our own JSON body parsing rather than @middy/http-json-body-parser, which answers 415 for
 * malformed JSON and for a missing body; clients expect 400 and bodiless GET/DELETE are normal.
 * The parse error message is dropped: it can quote the body, and the body may hold a secret.
 */
export function parseJsonBody(event: APIGatewayProxyEventV2): Record<string, unknown> {
  if (event.body === undefined || event.body === null || event.body === '') return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest('request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
