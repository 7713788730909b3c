import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { browserSuite, loginWithKey, screenshot } from './ui-browser.js';
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
 * The quality bar on every page, in headless Chromium against a real control plane: keyboard
 * only (navigation, tabs, dialogs), a label on every control and WCAG AA contrast in both colour
 * schemes, phone-sized layouts, and loading, error (with the next step) and empty states.
 */
describe('control panel quality: keyboard, labels, contrast, phones, loading / error / empty states', () => {
  let stack: UiStack;
  beforeAll(async () => {
    await buildUi();
    stack = await startUiStack();
    // One of each kind of row, so the tables (and their widths on a phone) are really there; no logs and no prompts (their empty states are checked).
    const post = (path: string, body: unknown) => api(path, { method: 'POST', body: JSON.stringify(body) }).then((r) => expect(r.status, path).toBeLessThan(300));
    await post('/v1/virtual-keys', { name: 'openai prod', provider: 'openai', key: 'sk-quality-0123456789abcdefghijklmnop', rate_limits: [{ type: 'requests', unit: 'rpm', value: 600 }] });
    await post('/v1/configs', { name: 'quality config', config: { provider: 'openai' } });
    await post('/v1/api-keys/organisation/service', { name: 'quality reader', scopes: ['configs.read'] });
    await post('/v1/admin/workspaces', { name: 'quality team' });
  }, 180_000);
  afterAll(() => stack?.close());
  const ui = browserSuite('quality', { viewport: { width: 1280, height: 860 } });
  let page: Page;
  beforeAll(() => {
    page = ui.page;
  });

  const api = (path: string, init: RequestInit = {}, key = stack.cp.adminApiKey) =>
    fetch(`${stack.cp.url}${path}`, { ...init, headers: { 'x-portkey-api-key': key, 'content-type': 'application/json', ...(init.headers ?? {}) } });

  ui.it('logs in', async () => {
    await loginWithKey(page, stack.url, stack.cp.adminApiKey);
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
