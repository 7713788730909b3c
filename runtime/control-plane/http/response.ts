import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HandlerResult = APIGatewayProxyStructuredResultV2;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HandlerResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

export function empty(statusCode: number, headers: Record<string, string> = {}): HandlerResult {
  return { statusCode, headers, body: '' };
}
