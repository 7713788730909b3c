import { inviteRoutes } from '../api/invites.js';
import { userRoutes } from '../api/users.js';
import { controlPlaneHandler } from '../http/handler.js';

/** `/v1/admin/users` and `/v1/admin/users/invites` (Portkey's Admin API shapes). */
export const handler = controlPlaneHandler('users', { ...userRoutes, ...inviteRoutes });
