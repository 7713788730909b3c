import type { Migration } from '../migrations.js';
import { tenantTable } from './rls.js';

/** Guardrail definitions (referenced from configs by id) and per-org model price overrides. */
export const m007: Migration = {
  id: 7,
  name: 'guardrails and pricing',
  statements: [
    `CREATE TABLE guardrails (
      id text PRIMARY KEY,
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      slug text NOT NULL,
      name text NOT NULL,
      checks jsonb NOT NULL,
      actions jsonb NOT NULL DEFAULT '{}'::jsonb,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organisation_id, slug)
    )`,
    `CREATE TABLE pricing_overrides (
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      provider text NOT NULL,
      model text NOT NULL,
      input double precision NOT NULL,
      output double precision NOT NULL,
      cached_input double precision,
      version integer NOT NULL DEFAULT 1,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organisation_id, provider, model)
    )`,
    ...tenantTable('guardrails', { workspaceColumn: 'workspace_id' }),
    ...tenantTable('pricing_overrides'),
  ],
};
