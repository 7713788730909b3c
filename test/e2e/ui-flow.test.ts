import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUi, launchBrowser, screenshot, startUiStack, watchConsole, type UiStack } from './ui-harness.js';
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
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let consoleErrors: string[];

  const api = (path: string, init: RequestInit = {}, key = stack.cp.adminApiKey) =>
    fetch(`${stack.cp.url}${path}`, { ...init, headers: { 'x-portkey-api-key': key, 'content-type': 'application/json', ...(init.headers ?? {}) } });

  beforeAll(async () => {
    await buildUi();
    [stack, browser] = await Promise.all([startUiStack(), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    consoleErrors = watchConsole(page);
  }, 180_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await stack?.close();
  });

  it('logs in with the admin API key (and says why a bad key fails)', async () => {
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
    // The deliberate wrong key's 401 is the only console error so far; anything else fails below.
    expect(consoleErrors.every((e) => /status of 401/.test(e))).toBe(true);
    consoleErrors.length = 0;

    await page.getByLabel('API key', { exact: true }).fill(stack.cp.adminApiKey);
    await page.getByRole('button', { name: 'Log in with API key' }).click();
    await page.waitForURL(/\/configs$/);
    await page.getByRole('heading', { name: 'Configs', level: 1 }).waitFor();
    // The admin key is never written into the page.
    expect(await page.content()).not.toContain(stack.cp.adminApiKey);
  });

  it('creates a config: an inline schema error is shown, then fixed, then saved', async () => {
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
    await screenshot(page, 'config-saved');
  });

  it('creates a virtual key and only ever shows it masked', async () => {
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

  it('creates an API key that is shown once, and it works', async () => {
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

  it('the main navigation works from the keyboard alone', async () => {
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

  it('shows a clear state on every page, offered API or not, and nothing crashes', async () => {
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

  it('every control has a label and text meets WCAG AA contrast, on every page', async () => {
    const offenders: string[] = [];
    for (const path of ['/logs', '/analytics', '/prompts', '/configs', '/virtual-keys', '/api-keys', '/organisation', '/data-planes', '/audit-log']) {
      await page.goto(`${stack.url}${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.waitForFunction(() => !document.querySelector('.state-loading'), undefined, { timeout: 10_000 });
      offenders.push(...(await page.evaluate(auditPage)).map((p) => `${path}: ${p}`));
    }
    expect(offenders).toEqual([]);
  });

  it('is usable on a phone-sized screen', async () => {
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
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'mobile-configs');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('logged no browser console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
