import type { SqlDatabase } from '../core/db.js';
import { newSecret } from '../core/secrets.js';
import { hashPassword } from './auth/passwords.js';
import { mutateOrg } from './db/revision.js';
import { withTenant } from './db/tenant.js';
import { insertUser } from './db/users-repo.js';

export const DEV_OWNER_EMAIL = 'admin@tollgate.local';

export interface OwnerLogin {
  email: string;
  /** Set only when the user was created by this call: print it once, store it in credentials.json. */
  password?: string;
}

/**
 * Makes sure the org has an owner user who can sign in to the UI (the `tollgate dev` bootstrap).
 * Creates `email` with `password` (or a generated one) when no user has that email yet; an existing
 * user is left alone, so a restart never resets a changed password.
 */
export async function ensureOwnerUser(db: SqlDatabase, organisationId: string, email = DEV_OWNER_EMAIL, password?: string): Promise<OwnerLogin> {
  return withTenant(db, organisationId, async (scoped) => {
    const existing = await scoped.query('SELECT id FROM users WHERE organisation_id = $1 AND email = lower($2)', [organisationId, email]);
    if (existing.rows.length) return { email };
    const chosen = password ?? newSecret('', 12);
    const passwordHash = await hashPassword(chosen);
    await mutateOrg(scoped, organisationId, (tx) => insertUser(tx, organisationId, { email, role: 'owner', passwordHash }));
    return { email, password: chosen };
  });
}
