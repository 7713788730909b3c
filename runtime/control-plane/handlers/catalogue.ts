import { guardrailRoutes } from '../api/guardrails.js';
import { pricingRoutes } from '../api/pricing.js';
import { controlPlaneHandler } from '../http/handler.js';

/** `/v1/guardrails` (named guardrail definitions) and `/v1/pricing` (the model price catalogue). */
export const handler = controlPlaneHandler('catalogue', { ...guardrailRoutes, ...pricingRoutes });
