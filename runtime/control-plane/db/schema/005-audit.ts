import type { Migration } from '../migrations.js';
import { tenantTable } from './rls.js';

/** The audit log: who did what, when, from where. Append-only for the app role (no UPDATE/DELETE grants). */
export const m005: Migration = {
  id: 5,
  name: 'audit log',
  statements: [
    `CREATE TABLE audit_logs (
      id text PRIMARY KEY,
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      workspace_id text,
      actor_type text NOT NULL CHECK (actor_type IN ('api_key', 'user', 'platform', 'system')),
      actor_id text,
      action text NOT NULL,
      resource_type text NOT NULL,
      resource_id text,
      method text NOT NULL,
      path text NOT NULL,
      status integer NOT NULL,
      source_ip text,
      user_agent text,
      request_id text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX audit_logs_org_time ON audit_logs (organisation_id, created_at DESC, id)`,
    ...tenantTable('audit_logs', { workspaceColumn: 'workspace_id' }),
    // Append-only: the app may insert and read, never rewrite history.
    `REVOKE UPDATE, DELETE ON audit_logs FROM tollgate_app`,
    // Org-level entries (no workspace) stay visible only to org-wide callers.
    `DROP POLICY workspace_scope ON audit_logs`,
    `CREATE POLICY workspace_scope ON audit_logs AS RESTRICTIVE
       USING (coalesce(current_setting('tollgate.workspace_id', true), '') = ''
              OR workspace_id = ANY (string_to_array(current_setting('tollgate.workspace_id', true), ',')))`,
  ],
};
