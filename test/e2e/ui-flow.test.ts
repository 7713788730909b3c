import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { browserSuite, screenshot } from './ui-browser.js';
import { buildUi, startUiStack, type UiStack } from './ui-harness.js';
import { auditPage } from './ui-a11y-audit.js';

// The callbacks passed to page.evaluate/waitForFunction run in the browser; the root tsconfig has no DOM lib.
interface El {
  id: string;
  textContent: string | null;
}
declare const document: { activeElement: El | null; querySelector(s: string): El | null; documentElement: { scrollWidth: number; clientWidth: number } };
declare function getComputedStyle(e: El): { outlineStyle: string };

/**
 * The control panel in headless Chromium against a real control plane (PGlite, local keyring),
 * served same-origin through serveUi. Fails on any browser console error except the 404s of
 * probing APIs this control plane does not offer yet.
 */
describe('control panel in a real browser', () => {
  let stack: UiStack;
  beforeAll(async () => {
    await buildUi();
    stack = await startUiStack();
  }, 180_000);
  afterAll(() => stack?.close());
  const ui = browserSuite('flow', { viewport: { width: 1280, height: 860 } });
  let page: Page;
  beforeAll(() => {
    page = ui.page;
  });

  const api = (path: string, init: RequestInit = {}, key = stack.cp.adminApiKey) =>
    fetch(`${stack.cp.url}${path}`, { ...init, headers: { 'x-portkey-api-key': key, 'content-type': 'application/json', ...(init.headers ?? {}) } });

  ui.it('logs in with the admin API key (and says why a bad key fails)', async () => {
    await page.goto(`${stack.url}/configs`);
    await page.waitForURL(/\/login\?next=%2Fconfigs/);
    await expect(page.getByRole('heading', { name: 'Log in to the control panel' }).isVisible()).resolves.toBe(true);
    // Password/SSO are offered only when the control plane answers their routes.
    await page.getByText('Checking which sign-in methods').waitFor({ state: 'detached' });
    const passwordOffered = (await api('/v1/auth/login', { method: 'GET' })).status !== 404;
    expect(await page.getByLabel('Password', { exact: true }).count()).toBe(passwordOffered ? 1 : 0);

    await page.getByLabel('API key', { exact: true }).fill('tg-not-a-real-key-000000000000');
    await page.getByRole('button', { name: 'Log in with API key' }).click();
    await expect(page.getByRole('alert').first().textContent()).resolves.toMatch(/unknown, revoked or expired/);
    await screenshot(page, 'login-error');
    // The deliberate wrong key's 401 is the only console error so far; anything else fails the test.
    const seen = ui.takeConsoleErrors();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((e) => !/status of 401/.test(e))).toEqual([]);

    await page.getByLabel('API key', { exact: true }).fill(stack.cp.adminApiKey);
    await page.getByRole('button', { name: 'Log in with API key' }).click();
    await page.waitForURL(/\/configs$/);
    await page.getByRole('heading', { name: 'Configs', level: 1 }).waitFor();
    // The admin key is never written into the page.
    expect(await page.content()).not.toContain(stack.cp.adminApiKey);
  });

  ui.it('creates a config: an inline schema error is shown, then fixed, then saved', async () => {
    await page.getByRole('link', { name: 'New config' }).first().click();
    await page.waitForURL(/\/configs\/new$/);
    await page.getByLabel('Name').fill('ui fallback');
    const editor = page.getByRole('textbox', { name: 'Config JSON' });
    await editor.fill(JSON.stringify({ strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-prod', weight: 'heavy' }] }, null, 2));
    const invalid = page.getByTestId('config-invalid');
    await invalid.waitFor();
    expect(await invalid.textContent()).toContain('targets.0.weight');
    expect(await invalid.textContent()).toMatch(/Line \d+/);
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Create config' }).isDisabled()).toBe(true);

    await editor.fill('{ "strategy": { "mode": "fallback" }, "targets": [ { "virtual_key": "openai-prod" }, ');
    await page.getByTestId('config-invalid').getByText('Not valid JSON').waitFor();
    await screenshot(page, 'config-invalid');

    await editor.fill(JSON.stringify({ strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-prod', weight: 1 }, { virtual_key: 'anthropic-prod' }] }, null, 2));
    await page.getByTestId('config-valid').waitFor();
    expect(await editor.getAttribute('aria-invalid')).toBe('false');
    await page.getByRole('button', { name: 'Create config' }).click();
    await page.waitForURL(/\/configs\/pc-/);
    await page.getByRole('heading', { name: 'Config: ui fallback' }).waitFor();

    const listed = (await (await api('/v1/configs')).json()) as { data: { name: string; config: { targets: unknown[] } }[] };
    expect(listed.data.find((c) => c.name === 'ui fallback')?.config.targets).toHaveLength(2);

    // Edit → a new version; the unsaved diff shows what changed.
    await editor.fill(JSON.stringify({ strategy: { mode: 'loadbalance' }, targets: [{ virtual_key: 'openai-prod', weight: 1 }, { virtual_key: 'anthropic-prod', weight: 1 }] }, null, 2));
    await page.getByRole('figure').filter({ hasText: 'saved → draft' }).waitFor();
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByText('version 2').waitFor();
    // Versions with a diff: v1 against the saved v2 (now the draft).
    const versions = page.getByRole('region', { name: 'Versions', exact: true });
    await versions.getByRole('button', { name: 'Compare v1 with draft' }).click();
    const diff = versions.getByRole('figure').filter({ hasText: 'v1 → draft' });
    await diff.waitFor();
    const diffText = (await diff.textContent()) ?? '';
    expect(diffText).toMatch(/removed:\s*"mode": "fallback"/);
    expect(diffText).toMatch(/added:\s*"mode": "loadbalance"/);
    expect(diffText).not.toMatch(/(removed|added):\s*"virtual_key": "openai-prod"/);
    await screenshot(page, 'config-saved');
  });

  ui.it('creates a virtual key and only ever shows it masked', async () => {
    const secret = 'sk-ui-test-0123456789abcdefghijklmnop';
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Virtual keys' }).click();
    await page.waitForURL(/\/virtual-keys$/);
    await page.getByRole('button', { name: 'New virtual key' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New virtual key' });
    await dialog.getByLabel('Name').fill('openai prod');
    await dialog.getByLabel('Provider', { exact: true }).fill('openai');
    await dialog.getByLabel('Provider API key').fill(secret);
    await dialog.getByLabel('Requests per minute').fill('600');
    await dialog.getByRole('button', { name: 'Create virtual key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const masked = page.getByTestId('masked-key').first();
    await masked.waitFor();
    const shown = (await masked.textContent()) ?? '';
    expect(shown).not.toContain(secret);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown).toMatch(/\*|•|…|x{3}/);
    await page.getByText('600 rpm').waitFor();
    expect(await page.content()).not.toContain(secret);
    await screenshot(page, 'virtual-keys');
  });

  ui.it('creates an API key that is shown once, and it works', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.waitForURL(/\/api-keys$/);
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name').fill('ci reader');
    await dialog.getByRole('button', { name: 'Read only' }).click();
    await dialog.getByRole('button', { name: 'Create API key' }).click();
    const once = page.getByRole('dialog', { name: 'Copy your new API key now' });
    await once.waitFor();
    const key = await once.getByTestId('new-api-key').inputValue();
    expect(key.length).toBeGreaterThan(20);
    await screenshot(page, 'api-key-once');
    // The key is real: it reads configs, and lacks the scopes it was not given.
    expect((await api('/v1/configs', {}, key)).status).toBe(200);
    expect((await api('/v1/configs', { method: 'POST', body: JSON.stringify({ name: 'x', config: { provider: 'openai' } }) }, key)).status).toBe(403);

    await once.getByRole('button', { name: 'I have stored it' }).click();
    await once.waitFor({ state: 'hidden' });
    const row = page.getByRole('row').filter({ hasText: 'ci reader' });
    await row.waitFor();
    expect(await page.content()).not.toContain(key);
    await page.reload();
    await page.getByRole('row').filter({ hasText: 'ci reader' }).waitFor();
    expect(await page.content()).not.toContain(key);

    // Revoke it from the UI: the control plane refuses it afterwards.
    await page.getByRole('button', { name: 'Revoke ci reader' }).click();
    await page.getByRole('dialog', { name: 'Revoke ci reader?' }).getByRole('button', { name: 'Revoke key' }).click();
    await page.getByRole('row').filter({ hasText: 'ci reader' }).getByText('revoked').waitFor();
    expect((await api('/v1/configs', {}, key)).status).toBe(401);
  });

  ui.it('the main navigation works from the keyboard alone', async () => {
    await page.goto(`${stack.url}/logs`);
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    // Tab into the nav, to "Organisation", and open it with Enter.
    let found = false;
    for (let i = 0; i < 20 && !found; i++) {
      await page.keyboard.press('Tab');
      found = (await page.evaluate(() => document.activeElement?.textContent)) === 'Organisation';
    }
    expect(found).toBe(true);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/organisation$/);
    await page.getByRole('heading', { name: 'Organisation', level: 1 }).waitFor();
    // Focus moved to the new page's heading, so the next Tab continues in the page.
    await page.waitForFunction(() => document.activeElement?.id === 'page-title');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Organisation');
    // Tabs switch with the arrow keys.
    await page.getByRole('tab', { name: 'Workspaces' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForURL(/tab=users/);
    // The URL changes before the re-render moves focus, so wait for focus rather than read it once.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent), { timeout: 5_000 }).toBe('Users');
    await screenshot(page, 'organisation-users');
  });

  ui.it('shows a clear state on every page, offered API or not, and nothing crashes', async () => {
    for (const path of ['/logs', '/analytics', '/prompts', '/organisation?tab=invites', '/data-planes', '/audit-log', '/organisation']) {
      await page.goto(`${stack.url}${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      // One of: data, an empty state, or "not offered yet". Never a blank page or a spinner forever.
      await page.waitForFunction(() => !document.querySelector('.state-loading'), undefined, { timeout: 10_000 });
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text.length, path).toBeGreaterThan(40);
      const unavailable = await page.getByTestId('not-offered').count();
      if (unavailable) expect(await page.getByTestId('not-offered').first().textContent()).toMatch(/does not offer .* yet/);
      const errorStates = await page.locator('.state-error').count();
      expect(errorStates, `${path}: ${text.slice(0, 300)}`).toBe(0);
    }
    await page.goto(`${stack.url}/audit-log`);
    await page.waitForFunction(() => !document.querySelector('.state-loading'));
    await screenshot(page, 'audit-log');
    await page.goto(`${stack.url}/analytics`);
    await page.waitForFunction(() => !document.querySelector('.state-loading'));
    await screenshot(page, 'analytics');
  });

  ui.it('every control has a label and text meets WCAG AA contrast, on every page', async () => {
    const offenders: string[] = [];
    for (const path of ['/logs', '/analytics', '/prompts', '/configs', '/virtual-keys', '/api-keys', '/organisation', '/data-planes', '/audit-log']) {
      await page.goto(`${stack.url}${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.waitForFunction(() => !document.querySelector('.state-loading'), undefined, { timeout: 10_000 });
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        offenders.push(...(await page.evaluate(auditPage)).map((p) => `${path} (${colorScheme}): ${p}`));
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    expect(offenders).toEqual([]);
  });

  ui.it('is usable on a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${stack.url}/virtual-keys`);
    await page.getByRole('heading', { name: 'Virtual keys', level: 1 }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Menu' }).click();
    await expect.poll(() => nav.isVisible(), { timeout: 5_000 }).toBe(true);
    await nav.getByRole('link', { name: 'Configs' }).click();
    await page.waitForURL(/\/configs$/);
    // The menu closes on the render after navigation; a one-shot read races it.
    await expect.poll(() => nav.isVisible(), { timeout: 5_000 }).toBe(false);
    // No page scrolls sideways on a phone (wide tables scroll inside their own box).
    for (const path of ['/logs', '/analytics', '/prompts', '/configs', '/configs/new', '/virtual-keys', '/api-keys', '/organisation', '/data-planes', '/audit-log']) {
      await page.goto(`${stack.url}${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.waitForFunction(() => !document.querySelector('.state-loading'), undefined, { timeout: 20_000 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
      await screenshot(page, `mobile${path.replace(/\//g, '-')}`);
    }
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  ui.it('a dialog works from the keyboard: opens with Enter, traps focus, Escape closes and focus returns', async () => {
    await page.goto(`${stack.url}/virtual-keys`);
    const open = page.getByRole('button', { name: 'New virtual key' }).first();
    await open.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New virtual key' });
    await dialog.waitFor();
    // Focus is inside the dialog, and Tab (or Shift+Tab) never leaves it.
    for (let i = 0; i < 30; i++) {
      if (i === 15) await page.keyboard.down('Shift');
      expect(await dialog.evaluate((d) => d.contains((d as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement as never))).toBe(true);
      await page.keyboard.press('Tab');
    }
    await page.keyboard.up('Shift');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => open.evaluate((b) => (b as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement === b)).toBe(true);
  });


  ui.it('rotates a virtual key secret and sets its limits', async () => {
    const rotated = 'sk-ui-rotated-9876543210zyxwvutsrqpo';
    await page.goto(`${stack.url}/virtual-keys`);
    const row = page.getByRole('row').filter({ hasText: 'openai prod' });
    const maskedBefore = await row.getByTestId('masked-key').textContent();
    await row.getByRole('button', { name: 'Rotate secret of openai prod' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate the secret of openai prod' });
    await rotate.getByLabel('New provider API key').fill(rotated);
    await rotate.getByRole('button', { name: 'Rotate secret' }).click();
    await rotate.waitFor({ state: 'hidden' });
    await expect.poll(() => row.getByTestId('masked-key').textContent()).not.toBe(maskedBefore);
    expect(await page.content()).not.toContain(rotated);

    await row.getByRole('button', { name: 'Edit limits of openai prod' }).click();
    const limits = page.getByRole('dialog', { name: 'Limits for openai prod' });
    await limits.getByLabel('Budget (USD)').fill('25');
    await limits.getByLabel('Budget resets').selectOption('monthly');
    await limits.getByLabel('Requests per minute').fill('120');
    await limits.getByRole('button', { name: /Save/ }).click();
    await limits.waitFor({ state: 'hidden' });
    await row.getByText('$25/monthly').waitFor();
    await row.getByText('120 rpm').waitFor();
    const stored = (await (await api('/v1/virtual-keys')).json()) as { data: { name: string; usage_limits: { credit_limit: number; periodic_reset: string }; rate_limits: { value: number }[] }[] };
    const vk = stored.data.find((v) => v.name === 'openai prod')!;
    expect(vk.usage_limits).toMatchObject({ credit_limit: 25, periodic_reset: 'monthly' });
    expect(vk.rate_limits[0].value).toBe(120);
  });

  ui.it('organisation: creates a workspace, invites a user with a role, and changes roles', async () => {
    await page.goto(`${stack.url}/organisation`);
    const ws = page.getByRole('form', { name: 'New workspace' });
    await ws.getByLabel('Workspace name').fill('ui team');
    await ws.getByRole('button', { name: 'Create workspace' }).click();
    await page.getByRole('row').filter({ hasText: 'ui team' }).waitFor();
    const workspaces = (await (await api('/v1/admin/workspaces')).json()) as { data: { id: string; name: string }[] };
    const team = workspaces.data.find((w) => w.name === 'ui team');
    expect(team).toBeDefined();

    await page.goto(`${stack.url}/organisation?tab=invites`);
    const invite = page.getByRole('form', { name: 'Invite a user' });
    await invite.getByLabel('Email').fill('member@flow.test');
    await invite.getByLabel('Organisation role').selectOption('member');
    await invite.getByRole('button', { name: 'Send invite' }).click();
    const link = (await page.getByText('Invite link:').locator('.mono').textContent()) ?? '';
    const token = /[?&]token=([^&]+)/.exec(link)?.[1] ?? link.split('/').pop()!;
    // The invited person accepts in their own browser; here, through the API.
    const accepted = await fetch(`${stack.url}/v1/auth/invites/accept`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: decodeURIComponent(token), password: 'a long enough password' }) });
    expect(accepted.status).toBe(200);

    await page.goto(`${stack.url}/organisation?tab=users`);
    const role = page.getByLabel('Role of member@flow.test');
    await expect.poll(() => role.inputValue()).toBe('member');
    await role.selectOption('admin');
    await page.getByText('member@flow.test is now admin').waitFor();
    const users = (await (await api('/v1/admin/users')).json()) as { data: { email: string; role: string }[] };
    expect(users.data.find((u) => u.email === 'member@flow.test')?.role).toBe('admin');
  });

  ui.it('every page shows a loading state, then an error that says what to do next, and recovers on retry', async () => {
    for (const path of ['/logs', '/analytics', '/prompts', '/configs', '/virtual-keys', '/api-keys', '/organisation', '/data-planes', '/audit-log']) {
      // Hold every API answer until the loading state has been seen, then fail it with a 500.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/v1/**', async (route) => {
        await held;
        await route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ status: 'failure', message: 'database unavailable' }) });
      });
      await page.goto(`${stack.url}${path}`);
      await page.locator('.state-loading').first().waitFor();
      release();
      const error = page.locator('.state-error').first();
      await error.waitFor();
      expect(await error.textContent(), path).toMatch(/database unavailable.*Retry; if it keeps failing, check the control plane logs/);
      ui.takeConsoleErrors(); // the 500s we caused on purpose
      await page.unroute('**/v1/**');
      // Every failed part of the page offers its own Retry; a click re-renders the page, so take them one at a time.
      const retry = page.getByRole('button', { name: 'Retry' });
      await expect
        .poll(
          async () => {
            if (await retry.count()) await retry.first().click({ timeout: 5_000 }).catch(() => undefined);
            return retry.count();
          },
          { timeout: 20_000 },
        )
        .toBe(0);
      await page.waitForFunction(() => !document.querySelector('.state-error') && !document.querySelector('.state-loading'), undefined, { timeout: 20_000 });
    }
  });

  ui.it('a failed action says what went wrong and what to do next', async () => {
    await page.goto(`${stack.url}/organisation`);
    const ws = page.getByRole('form', { name: 'New workspace' });
    await page.route('**/v1/admin/workspaces', (route) =>
      route.request().method() === 'POST' ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ status: 'failure', message: 'database unavailable' }) }) : route.fallback(),
    );
    await ws.getByLabel('Workspace name').fill('never created');
    await ws.getByRole('button', { name: 'Create workspace' }).click();
    await expect(ws.getByRole('alert').textContent()).resolves.toBe('database unavailable. Retry; if it keeps failing, check the control plane logs.');
    await page.unroute('**/v1/admin/workspaces');
    // A mistake the user can fix says so: the API's own 400 message, then what to do.
    await ws.getByLabel('Workspace name').fill('x'.repeat(300));
    await ws.getByRole('button', { name: 'Create workspace' }).click();
    await expect.poll(() => ws.getByRole('alert').textContent()).toMatch(/name.*\. Correct it and try again\.$/);
    const seen = ui.takeConsoleErrors();
    expect(seen.filter((e) => !/status of (503|400)/.test(e))).toEqual([]);
  });

  ui.it('pages with nothing in them say so and what to do', async () => {
    for (const [path, empty] of [
      ['/logs', /No logs match.*Widen the time range or clear filters/],
      ['/prompts', /No prompts yet/],
      ['/data-planes', /No gateway has checked in yet/],
      ['/analytics', /No top models in this range/],
    ] as const) {
      await page.goto(`${stack.url}${path}`);
      const state = page.locator('.state-empty').first();
      await state.waitFor();
      expect(await state.textContent(), path).toMatch(empty);
    }
  });
});
