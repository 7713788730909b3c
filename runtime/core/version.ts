import pkg from '../../package.json' with { type: 'json' };

/** The package version; gateway and control plane exchange it on every sync. */
export const TOLLGATE_VERSION: string = pkg.version;
