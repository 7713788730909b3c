import type { Migration } from '../migrations.js';

const wsSetting = `current_setting('tollgate.workspace_id', true)`;

/**
 * Tables created after migration 4 compared `workspace_id = <setting>`, but a signed-in org member's
 * setting is the comma list of their workspaces: a member of two workspaces saw none of their prompts,
 * guardrails or logs. Same CASE shape as migration 62 (which this follows) (planner-friendly), now with the list.
 */
export const m070: Migration = {
  id: 70,
  name: 'workspace lists on every workspace-scoped table',
  statements: ['feedback', 'guardrails', 'prompt_partials', 'prompts', 'request_metrics'].map(
    (table) =>
      `ALTER POLICY workspace_scope ON ${table} USING (CASE WHEN coalesce(${wsSetting}, '') = '' THEN true ELSE workspace_id = ANY (string_to_array(${wsSetting}, ',')) END)`,
  ),
};
