import { issueSession } from '../../runtime/control-plane/auth/issue-session.js';
import { upsertMember } from '../../runtime/control-plane/db/members-repo.js';
import { withTenant } from '../../runtime/control-plane/db/tenant.js';
import { insertUser } from '../../runtime/control-plane/db/users-repo.js';
import type { OrgRole, WorkspaceRole } from '../../runtime/control-plane/roles.js';
import type { TestControlPlane } from './cp-harness.js';

/** A user of the test control plane's org with a real signed session cookie for them. */
export async function userWithSession(
  t: TestControlPlane,
  role: OrgRole,
  workspaces: { id: string; role: WorkspaceRole }[] = [],
  organisationId = t.cp.organisationId,
): Promise<{ id: string; cookie: string; headers: Record<string, string> }> {
  const email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const { user, token } = await withTenant(t.cp.db, organisationId, async (db) => {
    const u = await insertUser(db, organisationId, { email, role });
    for (const w of workspaces) await upsertMember(db, organisationId, w.id, u.id, w.role);
    return { user: u, token: (await issueSession(db, u, 'password')).token };
  });
  const cookie = `tollgate_session=${token}`;
  // An empty x-portkey-api-key keeps the harness from adding the admin key: the cookie alone authenticates.
  return { id: user.id, cookie, headers: { cookie, 'x-portkey-api-key': '' } };
}
