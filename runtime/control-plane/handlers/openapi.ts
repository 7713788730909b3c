import { controlPlaneHandler } from '../http/handler.js';
import { json } from '../http/response.js';
import { openApiDocument } from '../openapi/document.js';

/** `GET /v1/openapi.json`: public, cacheable. */
export const handler = controlPlaneHandler('openapi', {
  'GET /v1/openapi.json': async () => json(200, openApiDocument(), { 'cache-control': 'public, max-age=300' }),
});
