import type { Migration } from '../migrations.js';
import { tenantTable } from './rls.js';

/**
 * Server-side record of UI sessions, so a session JWT can end before it expires: every request
 * checks its `jti` here (one primary-key lookup in the request's transaction). Logout revokes one
 * row; deleting a user cascades; a role or password change revokes all of the user's rows.
 */
export const m071: Migration = {
  id: 71,
  name: 'sessions',
  statements: [
    `CREATE TABLE sessions (
      id text PRIMARY KEY,
      organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
      user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      method text NOT NULL,
      source_ip text,
      user_agent text,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz
    )`,
    `CREATE INDEX sessions_live_by_user ON sessions (user_id) WHERE revoked_at IS NULL`,
    ...tenantTable('sessions'),
  ],
};
