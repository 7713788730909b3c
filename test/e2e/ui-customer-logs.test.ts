import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { MockServer } from '../support/mock-base.js';
import { startMockOpenAI } from '../support/mock-openai.js';
import { browserSuite, loginWithKey, waitUntil } from './ui-browser.js';
import { buildUi, startUiStack, type UiStack } from './ui-harness.js';

const PROVIDER_SECRET = 'sk-ui-provider-0123456789abcdefghijklmn';

/** Logs kept in the customer's cloud: the log detail's body comes through the control plane from the gateway. */
describe('log detail when the gateway keeps the logs (customer mode)', () => {
  let stack: UiStack;
  let upstream: MockServer;

  beforeAll(async () => {
    await buildUi();
    [stack, upstream] = await Promise.all([startUiStack({ gateway: true, logMode: 'customer', inMemoryDb: true }), startMockOpenAI({ name: 'customer', apiKey: PROVIDER_SECRET })]);
    const headers = { 'x-portkey-api-key': stack.cp.adminApiKey, 'content-type': 'application/json' };
    const vk = (await (
      await fetch(`${stack.cp.url}/v1/virtual-keys`, { method: 'POST', headers, body: JSON.stringify({ name: 'customer openai', provider: 'openai', key: PROVIDER_SECRET, custom_host: `${upstream.url}/v1` }) })
    ).json()) as { slug: string };
    await stack.gateway!.syncNow();
    const res = await fetch(`${stack.gateway!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...headers, 'x-portkey-virtual-key': vk.slug, 'x-portkey-trace-id': 'customer-trace' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'kept in my cloud' }] }),
    });
    expect(res.status).toBe(200);
    await waitUntil(async () => ((await (await fetch(`${stack.cp.url}/v1/logs?page_size=1`, { headers })).json()) as { total: number }).total >= 1, 'the log index row at the control plane');
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    await upstream?.close();
  });
  const ui = browserSuite('customer-logs');

  ui.it('shows the request and response fetched from the data plane', async () => {
    const page = ui.page;
    await loginWithKey(page, stack.url, stack.cp.adminApiKey);
    await page.locator('main table tbody tr a').first().click();
    await page.waitForURL(/\/logs\/.+/);
    await expect(page.getByRole('region', { name: 'Request' }).textContent()).resolves.toContain('kept in my cloud');
    await expect(page.getByRole('region', { name: 'Response' }).textContent()).resolves.toContain('Hello from customer');
    expect(await page.content()).not.toContain(PROVIDER_SECRET);
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const log = (await (await fetch(`${stack.cp.url}/v1/logs/${encodeURIComponent(id)}`, { headers: { 'x-portkey-api-key': stack.cp.adminApiKey } })).json()) as { log_location: string };
    expect(log.log_location).toBe('customer');
  });

  ui.it('says what to do when the data plane that keeps the body cannot be reached', async () => {
    const page = ui.page;
    await stack.gateway!.close();
    await page.reload();
    await page.getByRole('region', { name: 'Summary' }).waitFor();
    await expect(page.getByRole('region', { name: 'Request' }).textContent()).resolves.toMatch(/could not be fetched from the data plane that keeps it.*Check that the gateway is up and reachable/);
  });
});
