import type { Migration } from '../migrations.js';
import { tenantTable } from './rls.js';

/** Versioned prompts with movable labels, and versioned partials they include by reference. */
export const m006: Migration = {
  id: 6,
  name: 'prompts and partials',
  statements: [
    `CREATE TABLE prompts (
      id text PRIMARY KEY,
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      slug text NOT NULL,
      name text NOT NULL,
      collection_id text,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
      latest_version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organisation_id, slug)
    )`,
    `CREATE TABLE prompt_versions (
      id text PRIMARY KEY,
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      prompt_id text NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
      version integer NOT NULL,
      messages jsonb NOT NULL,
      parameters jsonb NOT NULL DEFAULT '{}'::jsonb,
      model text,
      virtual_key text,
      provider text,
      tools jsonb,
      tool_choice jsonb,
      description text,
      template_metadata jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (prompt_id, version)
    )`,
    `CREATE TABLE prompt_labels (
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      prompt_id text NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
      label text NOT NULL,
      version integer NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (prompt_id, label)
    )`,
    `CREATE TABLE prompt_partials (
      id text PRIMARY KEY,
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      slug text NOT NULL,
      name text NOT NULL,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
      latest_version integer NOT NULL DEFAULT 1,
      default_version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organisation_id, slug)
    )`,
    `CREATE TABLE prompt_partial_versions (
      id text PRIMARY KEY,
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      partial_id text NOT NULL REFERENCES prompt_partials(id) ON DELETE CASCADE,
      version integer NOT NULL,
      string text NOT NULL,
      description text,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (partial_id, version)
    )`,
    ...tenantTable('prompts', { workspaceColumn: 'workspace_id' }),
    ...tenantTable('prompt_versions'),
    ...tenantTable('prompt_labels'),
    ...tenantTable('prompt_partials', { workspaceColumn: 'workspace_id' }),
    ...tenantTable('prompt_partial_versions'),
  ],
};
