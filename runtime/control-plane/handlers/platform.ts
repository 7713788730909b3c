import { platformRoutes } from '../api/platform.js';
import { controlPlaneHandler } from '../http/handler.js';

/** The vendor's platform-admin API: onboard and manage organisations (TOLLGATE_PLATFORM_ADMIN_KEY). */
export const handler = controlPlaneHandler('platform', platformRoutes);
