import type { Migration } from '../migrations.js';
import { definerAccess, definerFunction, tenantTable } from './rls.js';

/** Users, organisation and workspace roles, invites; BYOK key and version on organisations. */
export const m004: Migration = {
  id: 4,
  name: 'users, roles, invites',
  statements: [
    `ALTER TABLE organisations ADD COLUMN kms_key_arn text`,
    `ALTER TABLE organisations ADD COLUMN version integer NOT NULL DEFAULT 1`,
    `ALTER TABLE organisations ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`,
    `CREATE TABLE users (
      id text PRIMARY KEY,
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      email text NOT NULL,
      first_name text,
      last_name text,
      role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
      -- argon2id; NULL for users who only sign in with SSO.
      password_hash text,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organisation_id, email)
    )`,
    `CREATE INDEX users_email ON users (lower(email))`,
    `CREATE TABLE workspace_members (
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      role text NOT NULL CHECK (role IN ('admin', 'manager', 'member')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (workspace_id, user_id)
    )`,
    `CREATE TABLE invites (
      id text PRIMARY KEY,
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      email text NOT NULL,
      role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
      workspaces jsonb NOT NULL DEFAULT '[]'::jsonb,
      token_hash text NOT NULL UNIQUE,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'cancelled')),
      invited_by text,
      expires_at timestamptz NOT NULL,
      accepted_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    ...tenantTable('users'),
    ...tenantTable('workspace_members', { workspaceColumn: 'workspace_id' }),
    ...tenantTable('invites'),
    // Workspace scoping may name several workspaces (a member's): a comma-separated list.
    ...['workspaces:id', 'api_keys:workspace_id', 'virtual_keys:workspace_id', 'configs:workspace_id', 'workspace_members:workspace_id'].flatMap((spec) => {
      const [table, column] = spec.split(':');
      return [
        `DROP POLICY workspace_scope ON ${table}`,
        `CREATE POLICY workspace_scope ON ${table} AS RESTRICTIVE
           USING (coalesce(current_setting('tollgate.workspace_id', true), '') = ''
                  OR ${column} = ANY (string_to_array(current_setting('tollgate.workspace_id', true), ',')))`,
      ];
    }),
    ...definerAccess('users'),
    ...definerAccess('invites'),
    ...definerFunction('tollgate_users_by_email(p_email text)', 'SETOF users', `SELECT * FROM users WHERE lower(email) = lower(p_email) AND status = 'active'`),
    ...definerFunction('tollgate_user_by_id(p_id text)', 'SETOF users', 'SELECT * FROM users WHERE id = p_id'),
    ...definerFunction('tollgate_invite_by_token(p_hash text)', 'SETOF invites', 'SELECT * FROM invites WHERE token_hash = p_hash'),
  ],
};
