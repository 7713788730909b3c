import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { MockServer } from '../support/mock-base.js';
import { startMockOpenAI } from '../support/mock-openai.js';
import { browserSuite, loginWithKey, waitUntil } from './ui-browser.js';
import { buildUi, startUiStack, type UiStack } from './ui-harness.js';

const PROVIDER_SECRET = 'sk-journey-provider-0123456789abcdefghij';

/**
 * The end-to-end flow, in order, everything an operator does done in the UI: log in; create a
 * virtual key and a config; send traffic through the gateway; see it in the logs and the charts move;
 * open a log and add feedback; edit a prompt, deploy it and roll it back; revoke an API key and see
 * the gateway refuse it.
 */
describe('the control panel flow, steps 1 to 7', () => {
  let stack: UiStack;
  let upstream: MockServer;
  let page: Page;
  let vkSlug = '';
  let configSlug = '';
  let gatewayKey = '';

  beforeAll(async () => {
    await buildUi();
    [stack, upstream] = await Promise.all([startUiStack({ gateway: true, inMemoryDb: true }), startMockOpenAI({ name: 'journey', apiKey: PROVIDER_SECRET })]);
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
    await upstream?.close();
  });
  const ui = browserSuite('journey');
  beforeAll(() => {
    page = ui.page;
  });

  const chat = (key: string, trace: string) =>
    fetch(`${stack.gateway!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': key, 'x-portkey-config': configSlug, 'x-portkey-trace-id': trace },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `journey ${trace}` }] }),
    });
  const logsTotal = async () =>
    ((await (await fetch(`${stack.cp.url}/v1/logs?page_size=1`, { headers: { 'x-portkey-api-key': stack.cp.adminApiKey } })).json()) as { total: number }).total;
  const requestsShown = async () => /Requests\s*·\s*([\d,]+)/.exec((await page.locator('#g-requests').textContent()) ?? '')?.[1] ?? 'none';

  ui.it('1. logs in', async () => {
    await loginWithKey(page, stack.url, stack.cp.adminApiKey, '/virtual-keys');
    await page.getByRole('heading', { name: 'Virtual keys', level: 1 }).waitFor();
  });

  ui.it('2. creates a virtual key and a config', async () => {
    await page.getByRole('button', { name: 'New virtual key' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New virtual key' });
    await dialog.getByLabel('Name').fill('journey openai');
    await dialog.getByLabel('Provider', { exact: true }).fill('openai');
    await dialog.getByLabel('Provider API key').fill(PROVIDER_SECRET);
    await dialog.getByLabel('Custom host (optional)').fill(`${upstream.url}/v1`);
    await dialog.getByRole('button', { name: 'Create virtual key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const row = page.getByRole('row').filter({ hasText: 'journey openai' });
    await row.waitFor();
    vkSlug = ((await row.locator('.mono').first().textContent()) ?? '').trim();
    expect(vkSlug).toMatch(/\S/);

    await page.goto(`${stack.url}/configs/new`);
    await page.getByLabel('Name').fill('journey route');
    await page.getByRole('textbox', { name: 'Config JSON' }).fill(JSON.stringify({ virtual_key: vkSlug }, null, 2));
    await page.getByTestId('config-valid').waitFor();
    await page.getByRole('button', { name: 'Create config' }).click();
    await page.waitForURL(/\/configs\/pc-/);
    configSlug = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
  });

  ui.it('3. sends traffic through the gateway', async () => {
    await page.goto(`${stack.url}/analytics`);
    await page.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor();
    await page.locator('#g-requests').waitFor();
    expect(await requestsShown()).toBe('0');
    await stack.gateway!.syncNow();
    for (let i = 0; i < 4; i++) expect((await chat(stack.cp.adminApiKey, `journey-${i}`)).status).toBe(200);
    await waitUntil(async () => (await logsTotal()) >= 4, 'four logs at the control plane');
  });

  ui.it('4. sees the requests in the logs and the charts move', async () => {
    await page.goto(`${stack.url}/logs`);
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: `Filter by trace journey-${i}`, exact: true }).waitFor();
    await page.goto(`${stack.url}/analytics`);
    await expect.poll(requestsShown).toBe('4');
    expect(await page.locator('section.chart canvas').count()).toBeGreaterThan(0);
  });

  ui.it('5. opens a log and adds feedback', async () => {
    await page.goto(`${stack.url}/logs?trace_id=journey-2`);
    await page.locator('main table tbody tr a').first().click();
    await expect(page.getByRole('region', { name: 'Request' }).textContent()).resolves.toContain('journey journey-2');
    const fb = page.getByRole('form', { name: 'Add feedback' });
    await fb.getByLabel('Score (-10 to 10)').fill('-3');
    await fb.getByRole('button', { name: 'Add feedback' }).click();
    await page.getByText('Thanks: the feedback is stored').waitFor();
    const stored = (await (await fetch(`${stack.cp.url}/v1/logs/journey-2`, { headers: { 'x-portkey-api-key': stack.cp.adminApiKey } })).json()) as { feedback: { value: number }[] };
    expect(stored.feedback.map((f) => f.value)).toEqual([-3]);
  });

  ui.it('6. edits a prompt, deploys it, and rolls it back', async () => {
    await page.goto(`${stack.url}/prompts`);
    await page.getByRole('button', { name: /New prompt/ }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New prompt' });
    await dialog.getByLabel('Name').fill('journey prompt');
    await dialog.getByLabel('Virtual key slug (optional)').fill(vkSlug);
    await dialog.getByRole('button', { name: 'Create prompt' }).click();
    await page.waitForURL(/\/prompts\/pp-/);
    const promptId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await page.getByRole('textbox', { name: 'Template' }).fill(JSON.stringify([{ role: 'user', content: 'Journey says {{word}}.' }], null, 2));
    await page.getByLabel('word', { exact: true }).fill('hello');
    await page.getByLabel('Rendered prompt').getByText('Journey says hello.').waitFor();
    await page.getByRole('button', { name: 'Save new version' }).click();
    const versions = page.getByRole('region', { name: 'Versions and labels' });
    const version = (n: number) => versions.getByRole('listitem').filter({ has: page.getByText(`v${n}`, { exact: true }) });
    await version(2).waitFor();
    const production = async () =>
      ((await (await fetch(`${stack.cp.url}/v1/prompts/${promptId}`, { headers: { 'x-portkey-api-key': stack.cp.adminApiKey } })).json()) as { labels: Record<string, number> }).labels.production;
    const move = versions.getByRole('form', { name: 'Move a label' });
    for (const to of [2, 1]) {
      await move.getByLabel('Label').selectOption('production');
      await move.getByLabel('Move to version').selectOption({ label: `v${to}` });
      await move.getByRole('button', { name: /Move label/ }).click();
      await version(to).getByText('production', { exact: true }).waitFor();
      expect(await production()).toBe(to);
    }
  });

  ui.it('7. revokes an API key and sees calls fail', async () => {
    await page.goto(`${stack.url}/api-keys`);
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name').fill('journey caller');
    await dialog.getByRole('button', { name: 'Gateway only' }).click();
    await dialog.getByRole('button', { name: 'Create API key' }).click();
    const once = page.getByRole('dialog', { name: 'Copy your new API key now' });
    gatewayKey = await once.getByTestId('new-api-key').inputValue();
    await once.getByRole('button', { name: 'I have stored it' }).click();
    await stack.gateway!.syncNow();
    expect((await chat(gatewayKey, 'journey-key-ok')).status).toBe(200);

    await page.getByRole('button', { name: 'Revoke journey caller' }).click();
    await page.getByRole('dialog', { name: 'Revoke journey caller?' }).getByRole('button', { name: 'Revoke key' }).click();
    await page.getByRole('row').filter({ hasText: 'journey caller' }).getByText('revoked').waitFor();
    await stack.gateway!.syncNow();
    expect((await chat(gatewayKey, 'journey-key-revoked')).status).toBe(401);
  });
});
