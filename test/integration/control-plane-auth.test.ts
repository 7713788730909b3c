import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureOwnerUser } from '../../runtime/control-plane/bootstrap-owner.js';
import { startOnPglite } from '../support/cp-auth-helpers.js';
import { startOidcIssuer } from '../support/cp-oidc-issuer.js';
import { engines, startOn, type EngineControlPlane } from '../support/cp-engines.js';

const cookieOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
const post = (t: EngineControlPlane, path: string, json: unknown, headers: Record<string, string> = {}) =>
  t.api(path, { method: 'POST', json, headers: { 'x-portkey-api-key': '', ...headers } });

describe.each(engines)('UI login on %s', (engine) => {
  let t: EngineControlPlane;
  let owner: { email: string; password?: string };
  beforeAll(async () => {
    t = await startOn(engine, { devMode: false });
    owner = await ensureOwnerUser(t.cp.db, t.cp.organisationId);
  });
  afterAll(async () => t?.stop());

  it('the dev bootstrap owner signs in; the session cookie is HttpOnly, SameSite=Lax, Secure outside dev, and works on admin routes', async () => {
    expect(owner.email).toBe('admin@tollgate.local');
    expect(owner.password).toBeTruthy();
    expect(await ensureOwnerUser(t.cp.db, t.cp.organisationId)).toEqual({ email: owner.email }); // a restart prints nothing new
    const res = await post(t, '/v1/auth/login', { email: owner.email, password: owner.password });
    expect(res.status).toBe(200);
    const setCookie = res.headers.getSetCookie()[0];
    expect(setCookie).toMatch(/^tollgate_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
    const cookie = cookieOf(res);
    const me = await t.api('/v1/auth/me', { headers: { cookie, 'x-portkey-api-key': '' } });
    expect(await me.json()).toMatchObject({ email: owner.email, role: 'owner', organisation_id: t.cp.organisationId });
    expect((await t.api('/v1/configs', { headers: { cookie, 'x-portkey-api-key': '' } })).status).toBe(200);
    expect((await t.api('/v1/configs', { headers: { cookie: 'tollgate_session=forged.token.here', 'x-portkey-api-key': '' } })).status).toBe(401);
    const out = await post(t, '/v1/auth/logout', {}, { cookie });
    expect(out.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);
  });

  it('wrong passwords get one 401 answer; after 10 attempts per email and IP, 429', async () => {
    const email = 'victim@example.com';
    expect((await post(t, '/v1/auth/login', { email: 'nobody@example.com', password: 'x' })).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await post(t, '/v1/auth/login', { email, password: `guess-${i}` })).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    const limited = await post(t, '/v1/auth/login', { email, password: 'again' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('900');
    expect((await post(t, '/v1/auth/login', { email: 'bad' })).status).toBe(400);
  });

  it('an invite is accepted with a password, creating the user with its roles', async () => {
    const ws = await t.sdk.admin.workspaces.create({ name: 'Invited' });
    const { invite_link: link } = await t.sdk.admin.users.invites.create({ email: 'joiner@example.com', role: 'member', workspaces: [{ id: ws.id!, role: 'manager' }] });
    const token = new URL(link!).searchParams.get('token')!;
    expect((await post(t, '/v1/auth/invites/accept', { token, password: 'short' })).status).toBe(400);
    const res = await post(t, '/v1/auth/invites/accept', { token, password: 'a long enough password' });
    expect(res.status).toBe(200);
    const me = (await (await t.api('/v1/auth/me', { headers: { cookie: cookieOf(res), 'x-portkey-api-key': '' } })).json()) as { role: string; workspace_ids: string[] };
    expect(me).toMatchObject({ role: 'member', workspace_ids: [ws.id] });
    expect((await post(t, '/v1/auth/invites/accept', { token, password: 'a long enough password' })).status).toBe(401);
  });
});

describe('OIDC single sign-on against a local issuer', () => {
  let issuer: Awaited<ReturnType<typeof startOidcIssuer>>;
  let t: EngineControlPlane;
  const env = { ...process.env };
  beforeAll(async () => {
    issuer = await startOidcIssuer({ clientId: 'tollgate-ui', email: 'sso@example.com' });
    Object.assign(process.env, { TOLLGATE_OIDC_ISSUER: issuer.issuer, TOLLGATE_OIDC_CLIENT_ID: 'tollgate-ui', TOLLGATE_OIDC_POST_LOGIN_URL: '/ui/' });
    t = await startOnPglite();
    await ensureOwnerUser(t.cp.db, t.cp.organisationId, 'sso@example.com');
  });
  afterAll(async () => {
    for (const k of ['TOLLGATE_OIDC_ISSUER', 'TOLLGATE_OIDC_CLIENT_ID', 'TOLLGATE_OIDC_POST_LOGIN_URL']) if (env[k] === undefined) delete process.env[k];
    await t?.stop();
    await issuer?.close();
  });

  it('authorization code + PKCE: discovery, redirect, token exchange, id_token verified with the JWKS, session cookie', async () => {
    const start = await fetch(`${t.cp.url}/v1/auth/oidc/login`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.origin).toBe(issuer.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const flowCookie = cookieOf(start);
    const atIssuer = await fetch(authorize, { redirect: 'manual' });
    const callback = atIssuer.headers.get('location')!;
    expect(callback).toContain('/v1/auth/oidc/callback?code=');
    // Without the flow cookie (another browser), the callback is refused.
    expect((await fetch(callback, { redirect: 'manual' })).status).toBe(401);
    const done = await fetch(callback, { redirect: 'manual', headers: { cookie: flowCookie } });
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/ui/');
    const session = done.headers.getSetCookie().find((c) => c.startsWith('tollgate_session='))!.split(';')[0];
    const me = await fetch(`${t.cp.url}/v1/auth/me`, { headers: { cookie: session } });
    expect(await me.json()).toMatchObject({ email: 'sso@example.com', role: 'owner' });
    // A replayed code is refused by the issuer.
    expect((await fetch(callback, { redirect: 'manual', headers: { cookie: flowCookie } })).status).toBe(401);
  });
});
