import type { Migration } from '../migrations.js';

const wsSetting = `current_setting('tollgate.workspace_id', true)`;
/** Tables whose workspace policy takes a comma list (migration 4) and those that take one id (later migrations). */
const listScoped = ['workspaces:id', 'api_keys:workspace_id', 'virtual_keys:workspace_id', 'configs:workspace_id', 'workspace_members:workspace_id', 'audit_logs:workspace_id'];
const singleScoped = ['feedback', 'guardrails', 'prompt_partials', 'prompts', 'request_metrics'];

/**
 * The same workspace policies, written as `CASE WHEN <no workspace set> THEN true ELSE <in the workspace> END`
 * instead of `<no workspace set> OR <in the workspace>`. Same rows (a NULL from the ELSE denies as the OR
 * did), but the planner estimated the OR at 0.5% of the rows (two unknown equalities), so with 10,000
 * rows it expected ~50 to pass and chose a full scan plus sort over the (organisation_id, created_at, id)
 * index for every page. A CASE is estimated at 50%, and the page is read in index order.
 */
const caseScoped = (inWorkspace: string) =>
  `CASE WHEN coalesce(${wsSetting}, '') = '' THEN true ELSE ${inWorkspace} END`;

/**
 * Indexes for the admin lists (bench/control-plane-lists.ts: p95 < 50 ms with 10,000 objects).
 * Every list is `WHERE organisation_id = $1 [AND workspace_id = $2] ORDER BY created_at, id LIMIT/OFFSET`:
 * with these the page is read in index order instead of sorting the whole org. `workspace_members`
 * was keyed (workspace_id, user_id) only; the users list looks members up by user.
 */
export const m062: Migration = {
  id: 62,
  name: 'list indexes',
  statements: [
    `CREATE INDEX IF NOT EXISTS workspaces_org_list ON workspaces (organisation_id, is_default DESC, created_at, id)`,
    ...['api_keys', 'virtual_keys', 'configs', 'prompts', 'users', 'guardrails', 'prompt_partials'].map(
      (t) => `CREATE INDEX IF NOT EXISTS ${t}_org_created ON ${t} (organisation_id, created_at, id)`,
    ),
    `CREATE INDEX IF NOT EXISTS workspace_members_user ON workspace_members (user_id)`,
    `CREATE INDEX IF NOT EXISTS audit_logs_org_list ON audit_logs (organisation_id, created_at DESC, id DESC)`,
    ...listScoped.map((spec) => {
      const [table, column] = spec.split(':');
      return `ALTER POLICY workspace_scope ON ${table} USING (${caseScoped(`${column} = ANY (string_to_array(${wsSetting}, ','))`)})`;
    }),
    ...singleScoped.map((table) => `ALTER POLICY workspace_scope ON ${table} USING (${caseScoped(`workspace_id = ${wsSetting}`)})`),
  ],
};
