import type { Migration } from '../migrations.js';

/** Optimistic versioning: every updatable row carries a version, bumped by each update. */
export const m003: Migration = {
  id: 3,
  name: 'row versions',
  statements: ['workspaces', 'api_keys', 'virtual_keys'].map((t) => `ALTER TABLE ${t} ADD COLUMN version integer NOT NULL DEFAULT 1`),
};
