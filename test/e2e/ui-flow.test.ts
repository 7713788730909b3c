import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { browserSuite, screenshot } from './ui-browser.js';
import { buildUi, startUiStack, type UiStack } from './ui-harness.js';

/**
 * The control panel's own objects in headless Chromium against a real control plane (PGlite, local
 * keyring), served same-origin through serveUi: login, configs (inline schema errors, versions, diff),
 * virtual keys (masked, rotate, limits), API keys (shown once, scopes, revoke), organisation.
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

});
