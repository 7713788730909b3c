import type { Migration } from '../migrations.js';
import { DEFINER_ROLE, definerFunction } from './rls.js';

/**
 * Login rate limiting, shared by every Lambda instance: a fixed window per (email, source IP) key,
 * kept in a table only the definer role touches (no tenant yet at login time).
 */
export const m008: Migration = {
  id: 8,
  name: 'login rate limit',
  statements: [
    `CREATE TABLE login_attempts (
      key text PRIMARY KEY,
      window_start timestamptz NOT NULL DEFAULT now(),
      attempts integer NOT NULL DEFAULT 0
    )`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON login_attempts TO ${DEFINER_ROLE}`,
    // Counts this attempt; true while the key has made at most p_max attempts in the current window.
    ...definerFunction(
      'tollgate_login_attempt(p_key text, p_max integer, p_window_seconds integer)',
      'boolean',
      `INSERT INTO login_attempts AS a (key, window_start, attempts) VALUES (p_key, now(), 1)
       ON CONFLICT (key) DO UPDATE SET
         attempts = CASE WHEN a.window_start < now() - make_interval(secs => p_window_seconds) THEN 1 ELSE a.attempts + 1 END,
         window_start = CASE WHEN a.window_start < now() - make_interval(secs => p_window_seconds) THEN now() ELSE a.window_start END
       RETURNING attempts <= p_max`,
      'VOLATILE',
    ),
    ...definerFunction('tollgate_login_reset(p_key text)', 'void', 'DELETE FROM login_attempts WHERE key = p_key', 'VOLATILE'),
  ],
};
