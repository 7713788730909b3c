import { ALL_SCOPES } from './scopes.js';

/**
 * What each role may do, expressed as the same scope names API keys carry, so one check serves
 * both kinds of caller. docs/permissions.md shows this table; the permission-matrix test checks it.
 *
 * - Organisation owner: everything, including managing owners.
 * - Organisation admin: everything except granting, changing or removing the owner role.
 * - Organisation member: nothing organisation-wide; what their workspace roles give, in those workspaces only.
 * - Workspace admin: everything inside the workspace, including its members and settings.
 * - Workspace manager: create/change/delete the workspace's objects (configs, keys, prompts...), not its members or settings.
 * - Workspace member: read and list the workspace's objects, render prompts and call models.
 */
export type OrgRole = 'owner' | 'admin' | 'member';
export type WorkspaceRole = 'admin' | 'manager' | 'member';

const WORKSPACE_OBJECTS = ['virtual_keys', 'configs', 'api_keys', 'prompts', 'guardrails'];
const CRUD = ['create', 'read', 'update', 'delete', 'list'];
const READ = ['read', 'list'];

const orgAdmin = new Set(ALL_SCOPES);

const wsMember = new Set([
  ...WORKSPACE_OBJECTS.flatMap((r) => READ.map((v) => `${r}.${v}`)),
  'workspaces.read',
  'workspaces.list',
  'workspace_users.read',
  'workspace_users.list',
  'pricing.read',
  'pricing.list',
  'prompts.render',
  'completions.write',
  'logs.read',
  'logs.list',
  'analytics.view',
]);
const wsManager = new Set([...wsMember, ...WORKSPACE_OBJECTS.flatMap((r) => CRUD.map((v) => `${r}.${v}`)), 'logs.export']);
const wsAdmin = new Set([...wsManager, ...CRUD.map((v) => `workspace_users.${v}`), 'workspaces.update', 'audit_logs.list']);

export const ORG_ROLE_SCOPES: Record<OrgRole, ReadonlySet<string>> = {
  owner: orgAdmin,
  admin: orgAdmin,
  member: new Set(),
};

export const WORKSPACE_ROLE_SCOPES: Record<WorkspaceRole, ReadonlySet<string>> = {
  admin: wsAdmin,
  manager: wsManager,
  member: wsMember,
};

export const ORG_ROLES: readonly OrgRole[] = ['owner', 'admin', 'member'];
export const WORKSPACE_ROLES: readonly WorkspaceRole[] = ['admin', 'manager', 'member'];
