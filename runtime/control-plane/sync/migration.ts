import type { Migration } from '../db/migrations.js';
import { tenantTable } from '../db/schema/rls.js';
import { changeLogFunction, changeLogStatements, trackSyncTable } from './change-log.js';

/** The per-org change log behind sync deltas (see change-log.ts). */
export const m040: Migration = {
  id: 40,
  name: 'sync change log',
  statements: changeLogStatements(tenantTable('sync_changes')),
};

/**
 * Delta-capable prompts, prompt versions and labels (logged under the prompt), partials and their
 * versions (under the partial), guardrails and price overrides (under `provider/model`: the log
 * function now takes a comma list of id columns, joined with `/`).
 */
export const m061: Migration = {
  id: 61,
  name: 'sync change log for prompts, partials, guardrails, pricing',
  statements: [
    changeLogFunction(),
    ...trackSyncTable('prompts', 'prompt'),
    ...trackSyncTable('prompt_versions', 'prompt', 'prompt_id'),
    ...trackSyncTable('prompt_labels', 'prompt', 'prompt_id'),
    ...trackSyncTable('prompt_partials', 'prompt_partial'),
    ...trackSyncTable('prompt_partial_versions', 'prompt_partial', 'partial_id'),
    ...trackSyncTable('guardrails', 'guardrail'),
    ...trackSyncTable('pricing_overrides', 'price', 'provider,model'),
  ],
};
