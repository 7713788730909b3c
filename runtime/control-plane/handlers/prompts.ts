import { partialRoutes } from '../api/partials.js';
import { promptRoutes } from '../api/prompts.js';
import { controlPlaneHandler } from '../http/handler.js';

/** `/v1/prompts` and `/v1/prompts/partials` (Portkey's prompt admin API). */
export const handler = controlPlaneHandler('prompts', { ...promptRoutes, ...partialRoutes });
