import { afterAll, beforeAll, describe, expect } from 'vitest';
import { configureSessions } from '../../runtime/control-plane/auth/session.js';
import { ensureOwnerUser } from '../../runtime/control-plane/bootstrap-owner.js';
import { startOidcIssuer } from '../support/cp-oidc-issuer.js';
import { browserSuite } from './ui-browser.js';
import { buildUi, startUiStack, type UiStack } from './ui-harness.js';

// Callbacks passed to page.waitForFunction run in the browser; the root tsconfig has no DOM lib.
declare const document: { querySelector(s: string): unknown };

/** Single sign-on: the UI's button → the control plane → a local OIDC issuer → back into the UI with a session. */
describe('single sign-on from the login page', () => {
  let stack: UiStack;
  let issuer: Awaited<ReturnType<typeof startOidcIssuer>>;
  const saved = { ...process.env };
  const KEYS = ['TOLLGATE_OIDC_ISSUER', 'TOLLGATE_OIDC_CLIENT_ID', 'TOLLGATE_OIDC_POST_LOGIN_URL'];

  beforeAll(async () => {
    configureSessions('ui-sso-test-session-secret');
    await buildUi();
    [stack, issuer] = await Promise.all([startUiStack({ inMemoryDb: true }), startOidcIssuer({ clientId: 'tollgate-ui', email: 'sso.user@ui.test' })]);
    // The callback lands on the control plane (through the UI's origin here); it then sends the browser to the UI's SSO landing.
    Object.assign(process.env, { TOLLGATE_OIDC_ISSUER: issuer.issuer, TOLLGATE_OIDC_CLIENT_ID: 'tollgate-ui', TOLLGATE_OIDC_POST_LOGIN_URL: '/login?sso=1' });
    await ensureOwnerUser(stack.cp.db, stack.cp.organisationId, 'sso.user@ui.test');
  }, 180_000);

  afterAll(async () => {
    for (const k of KEYS) if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
    await stack?.close();
    await issuer?.close();
  });
  const ui = browserSuite('sso');

  ui.it('signs in with the SSO button and lands in the app with a session cookie', async () => {
    const page = ui.page;
    await page.goto(`${stack.url}/login`);
    const sso = page.getByRole('link', { name: 'Continue with single sign-on' });
    await sso.waitFor();
    await sso.click();
    await page.waitForURL(/\/logs$/);
    await page.getByRole('heading', { name: 'Logs', level: 1 }).waitFor();
    expect((await ui.context.cookies()).find((c) => c.name === 'tollgate_session')?.httpOnly).toBe(true);
    await page.waitForFunction(() => !document.querySelector('.state-loading'));
    expect(await page.locator('.state-error').count()).toBe(0);
  });
});
