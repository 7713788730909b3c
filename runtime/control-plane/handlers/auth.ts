import { authRoutes } from '../api/auth.js';
import { oidcRoutes } from '../api/oidc.js';
import { controlPlaneHandler } from '../http/handler.js';

/** UI sign-in: email + password, OIDC single sign-on, invite acceptance, session introspection. */
export const handler = controlPlaneHandler('auth', { ...authRoutes, ...oidcRoutes });
