import type { Migration } from '../migrations.js';
import { APP_ROLE, DEFINER_ROLE, PLATFORM_ROLE, definerAccess, definerFunction, ensureRole, tenantTable } from './rls.js';

/** Tenant isolation in the database: roles, row-level security on every tenant table, lookup functions. */
export const m002: Migration = {
  id: 2,
  name: 'row-level security',
  statements: [
    ...ensureRole(APP_ROLE),
    ...ensureRole(DEFINER_ROLE),
    ...ensureRole(PLATFORM_ROLE),
    `GRANT USAGE ON SCHEMA public TO ${APP_ROLE}, ${PLATFORM_ROLE}`,
    // CREATE is what ALTER FUNCTION ... OWNER needs when the migrating user is not a superuser (Aurora).
    `GRANT USAGE, CREATE ON SCHEMA public TO ${DEFINER_ROLE}`,

    ...tenantTable('organisations', { orgColumn: 'id' }),
    `GRANT SELECT, INSERT, UPDATE, DELETE ON organisations TO ${PLATFORM_ROLE}`,
    `CREATE POLICY platform_all ON organisations TO ${PLATFORM_ROLE} USING (true) WITH CHECK (true)`,
    ...tenantTable('workspaces', { workspaceColumn: 'id' }),
    ...tenantTable('api_keys', { workspaceColumn: 'workspace_id' }),
    ...tenantTable('virtual_keys', { workspaceColumn: 'workspace_id' }),
    ...tenantTable('configs', { workspaceColumn: 'workspace_id' }),
    ...tenantTable('config_versions'),
    ...tenantTable('data_plane_credentials'),

    ...definerAccess('api_keys'),
    ...definerAccess('data_plane_credentials', true),
    ...definerAccess('organisations'),
    ...definerFunction('tollgate_api_key_by_hash(p_hash text)', 'SETOF api_keys', 'SELECT * FROM api_keys WHERE key_hash = p_hash'),
    ...definerFunction(
      'tollgate_credential_by_hash(p_hash text)',
      'SETOF data_plane_credentials',
      'SELECT * FROM data_plane_credentials WHERE token_hash = p_hash',
    ),
    ...definerFunction(
      'tollgate_touch_credential(p_id text)',
      'void',
      'UPDATE data_plane_credentials SET last_seen_at = now() WHERE id = p_id',
      'VOLATILE',
    ),
    ...definerFunction('tollgate_org_revision(p_org text)', 'bigint', 'SELECT revision FROM organisations WHERE id = p_org'),
    ...definerFunction('tollgate_first_organisation()', 'text', 'SELECT id FROM organisations ORDER BY created_at, id LIMIT 1'),
  ],
};
