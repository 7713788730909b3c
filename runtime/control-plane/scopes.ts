/**
 * API key scopes, named as Portkey names them (`<resource>.<verb>`). The admin routes check them;
 * the gateway checks `completions.write`. The bootstrap admin key holds all of them.
 */
const resources = ['workspaces', 'virtual_keys', 'configs', 'api_keys'] as const;
const verbs = ['create', 'read', 'update', 'delete', 'list'] as const;

export type AdminResource = (typeof resources)[number];
export type AdminVerb = (typeof verbs)[number];

export const ALL_SCOPES: readonly string[] = [
  ...resources.flatMap((r) => verbs.map((v) => `${r}.${v}`)),
  'completions.write',
  'logs.read',
  'logs.write',
  'analytics.view',
];

export function scopeFor(resource: AdminResource, verb: AdminVerb): string {
  return `${resource}.${verb}`;
}
