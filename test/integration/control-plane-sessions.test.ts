import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../runtime/control-plane/auth/passwords.js';
import { withTenant } from '../../runtime/control-plane/db/tenant.js';
import { insertUser } from '../../runtime/control-plane/db/users-repo.js';
import type { OrgRole } from '../../runtime/control-plane/roles.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

const cookieOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

/** Sessions end server-side before their JWT expires: logout, role change, password change, deletion. */
describe.each(engines)('session revocation on %s', (engine) => {
  let t: EngineControlPlane;
  let n = 0;
  beforeAll(async () => {
    t = await startOn(engine, { devMode: true });
  });
  afterAll(async () => t?.stop());

  const as = (cookie: string) => ({ cookie, 'x-portkey-api-key': '' });
  const statusWith = async (cookie: string, path = '/v1/configs') => (await t.api(path, { headers: as(cookie) })).status;
  async function userWithPassword(role: OrgRole = 'admin', password = 'the first password') {
    const email = `s${++n}@example.com`;
    const passwordHash = await hashPassword(password);
    const user = await withTenant(t.cp.db, t.cp.organisationId, (db) => insertUser(db, t.cp.organisationId, { email, role, passwordHash }));
    return { id: user.id, email, password };
  }
  async function login(email: string, password: string): Promise<string> {
    const res = await t.api('/v1/auth/login', { method: 'POST', json: { email, password }, headers: { 'x-portkey-api-key': '' } });
    expect(res.status).toBe(200);
    return cookieOf(res);
  }

  it('after logout the old cookie gets 401, while another session of the same user goes on', async () => {
    const u = await userWithPassword();
    const first = await login(u.email, u.password);
    const second = await login(u.email, u.password);
    expect(await statusWith(first)).toBe(200);
    const out = await t.api('/v1/auth/logout', { method: 'POST', headers: as(first) });
    expect(out.status).toBe(200);
    // A browser that kept the cookie (or someone who copied it) is refused: the server revoked it.
    expect(await statusWith(first)).toBe(401);
    expect(await statusWith(first, '/v1/auth/me')).toBe(401);
    expect(await statusWith(second)).toBe(200);
    const audit = (await (await t.api(`/v1/audit-logs?action=auth.logout&actor_id=${u.id}`)).json()) as { data: unknown[] };
    expect(audit.data).toHaveLength(1);
  });

  it('changing a user’s organisation role ends all of their sessions', async () => {
    const u = await userWithPassword('admin');
    const a = await login(u.email, u.password);
    const b = await login(u.email, u.password);
    const untouched = await userWithPassword('admin');
    const other = await login(untouched.email, untouched.password);
    expect((await t.api(`/v1/admin/users/${u.id}`, { method: 'PUT', json: { first_name: 'Same role' } })).status).toBe(200);
    expect(await statusWith(a)).toBe(200); // a change that is not the role keeps the sessions
    expect((await t.api(`/v1/admin/users/${u.id}`, { method: 'PUT', json: { role: 'member' } })).status).toBe(200);
    expect(await statusWith(a)).toBe(401);
    expect(await statusWith(b)).toBe(401);
    expect(await statusWith(other)).toBe(200);
    // Signing in again gives the new role's view.
    const again = await login(u.email, u.password);
    expect(((await (await t.api('/v1/auth/me', { headers: as(again) })).json()) as { role: string }).role).toBe('member');
  });

  it('a password change ends every session and issues a fresh one to the browser that made it', async () => {
    const u = await userWithPassword('admin');
    const here = await login(u.email, u.password);
    const elsewhere = await login(u.email, u.password);
    const wrong = await t.api('/v1/auth/password', { method: 'POST', headers: as(here), json: { current_password: 'not it', new_password: 'a brand new password' } });
    expect(wrong.status).toBe(401);
    expect(await statusWith(elsewhere)).toBe(200);
    expect((await t.api('/v1/auth/password', { method: 'POST', headers: as(here), json: { current_password: u.password, new_password: 'short' } })).status).toBe(400);
    const changed = await t.api('/v1/auth/password', { method: 'POST', headers: as(here), json: { current_password: u.password, new_password: 'a brand new password' } });
    expect(changed.status).toBe(200);
    const fresh = cookieOf(changed);
    expect(await statusWith(here)).toBe(401);
    expect(await statusWith(elsewhere)).toBe(401);
    expect(await statusWith(fresh)).toBe(200);
    expect((await t.api('/v1/auth/login', { method: 'POST', json: { email: u.email, password: u.password }, headers: { 'x-portkey-api-key': '' } })).status).toBe(401);
    await login(u.email, 'a brand new password');
    // An API key is no session: it cannot change anyone's password.
    expect((await t.api('/v1/auth/password', { method: 'POST', json: { current_password: 'x', new_password: 'a brand new password' } })).status).toBe(401);
  });

  it('deleting a user ends their sessions', async () => {
    const u = await userWithPassword('member');
    const cookie = await login(u.email, u.password);
    expect(await statusWith(cookie, '/v1/auth/me')).toBe(200);
    expect((await t.api(`/v1/admin/users/${u.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(await statusWith(cookie, '/v1/auth/me')).toBe(401);
    const { rows } = await t.cp.db.query('SELECT id FROM sessions WHERE user_id = $1', [u.id]);
    expect(rows).toEqual([]);
  });
});
