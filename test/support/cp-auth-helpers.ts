import { startOn, type EngineControlPlane } from './cp-engines.js';

/** PGlite in dev mode (no Secure cookies over plain HTTP), for the browser-flow tests. */
export const startOnPglite = (): Promise<EngineControlPlane> => startOn('pglite', { devMode: true });
