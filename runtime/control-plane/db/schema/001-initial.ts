import type { Migration } from '../migrations.js';

/** The foundation's schema: organisations, workspaces, API keys, virtual keys, configs, data-plane credentials. */
export const m001: Migration = {
    id: 1,
    name: 'tenants, keys, configs, credentials',
    statements: [
      `CREATE TABLE organisations (
        id text PRIMARY KEY,
        name text NOT NULL,
        -- Bumped in the same transaction as every mutation of the org's data: the sync version.
        revision bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE workspaces (
        id text PRIMARY KEY,
        organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        slug text NOT NULL,
        name text NOT NULL,
        description text,
        defaults jsonb,
        is_default boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organisation_id, slug)
      )`,
      `CREATE TABLE api_keys (
        id text PRIMARY KEY,
        organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        workspace_id text REFERENCES workspaces(id) ON DELETE CASCADE,
        key_hash text NOT NULL UNIQUE,
        masked_key text NOT NULL,
        name text NOT NULL,
        description text,
        scope text NOT NULL CHECK (scope IN ('organisation', 'workspace')),
        type text NOT NULL CHECK (type IN ('user', 'service')),
        user_id text,
        scopes jsonb NOT NULL DEFAULT '[]'::jsonb,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'exhausted')),
        expires_at timestamptz,
        defaults jsonb,
        usage_limits jsonb,
        rate_limits jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((scope = 'workspace') = (workspace_id IS NOT NULL))
      )`,
      `CREATE INDEX api_keys_org ON api_keys (organisation_id)`,
      `CREATE TABLE virtual_keys (
        id text PRIMARY KEY,
        organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        slug text NOT NULL,
        name text NOT NULL,
        provider text NOT NULL,
        -- AWS Encryption SDK message (base64); context = virtualKeyContext(org, workspace, slug).
        encrypted_key text NOT NULL,
        masked_key text NOT NULL,
        note text,
        options jsonb NOT NULL DEFAULT '{}'::jsonb,
        usage_limits jsonb,
        rate_limits jsonb,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'exhausted', 'revoked')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organisation_id, slug)
      )`,
      `CREATE TABLE configs (
        id text PRIMARY KEY,
        organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
        slug text NOT NULL,
        name text NOT NULL,
        is_default boolean NOT NULL DEFAULT false,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
        latest_version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (organisation_id, slug)
      )`,
      `CREATE TABLE config_versions (
        id text PRIMARY KEY,
        organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        config_id text NOT NULL REFERENCES configs(id) ON DELETE CASCADE,
        version integer NOT NULL,
        name text NOT NULL,
        config jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (config_id, version)
      )`,
      `CREATE TABLE data_plane_credentials (
        id text PRIMARY KEY,
        organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        name text NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz
      )`,
    ],
  };
