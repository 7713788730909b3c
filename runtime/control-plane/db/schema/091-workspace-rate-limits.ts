import type { Migration } from '../migrations.js';

/**
 * Workspace rate limits (issue 9: limits per API key, per virtual key and per workspace), in
 * Portkey's `rate_limits` shape, synced to the gateways with the workspace entry.
 */
export const m091: Migration = {
  id: 91,
  name: 'workspace rate limits',
  statements: [`ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS rate_limits jsonb`],
};
