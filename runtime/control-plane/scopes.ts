/**
 * API key scopes, named as Portkey names them (`<resource>.<verb>`). Every admin route checks one;
 * the gateway checks `completions.write`. The bootstrap admin key holds all of them.
 * Unknown scope names are refused when a key is created or updated.
 */
const resources = [
  'workspaces',
  'workspace_users',
  'organisation_users',
  'virtual_keys',
  'configs',
  'api_keys',
  'prompts',
  'guardrails',
  'pricing',
] as const;
const verbs = ['create', 'read', 'update', 'delete', 'list'] as const;

export type AdminResource = (typeof resources)[number] | 'audit_logs';
export type AdminVerb = (typeof verbs)[number] | 'render';

export const ALL_SCOPES: readonly string[] = [
  ...resources.flatMap((r) => verbs.map((v) => `${r}.${v}`)),
  'audit_logs.list',
  'prompts.render',
  'completions.write',
  'logs.read',
  'logs.list',
  'logs.write',
  'logs.export',
  'analytics.view',
];

export const KNOWN_SCOPES: ReadonlySet<string> = new Set(ALL_SCOPES);

export function scopeFor(resource: AdminResource, verb: AdminVerb): string {
  return `${resource}.${verb}`;
}
