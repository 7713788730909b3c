import { auditRoutes } from '../api/audit-logs.js';
import { controlPlaneHandler } from '../http/handler.js';

/** `GET /v1/audit-logs`: who changed what, when, from where. */
export const handler = controlPlaneHandler('audit-logs', auditRoutes);
