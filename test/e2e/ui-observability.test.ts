import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { configureSessions } from '../../runtime/control-plane/auth/session.js';
import { ensureOwnerUser } from '../../runtime/control-plane/bootstrap-owner.js';
import type { MockServer } from '../support/mock-base.js';
import { startMockOpenAI } from '../support/mock-openai.js';
import { browserSuite, screenshot, waitUntil } from './ui-browser.js';
import { buildUi, startUiStack, type UiStack } from './ui-harness.js';

// Callbacks passed to page.waitForFunction run in the browser; the root tsconfig has no DOM lib.
declare const document: { querySelector(s: string): unknown; querySelectorAll(s: string): { length: number } };

const PROVIDER_SECRET = 'sk-ui-provider-0123456789abcdefghijklmn';
/** A secret a user pasted into a prompt: the log detail must never show it. */
const PASTED_SECRET = 'sk-live-PASTED0123456789abcdefghijklmnop';
const OWNER = { email: 'owner@ui.test', password: 'correct horse battery staple' };

/**
 * The observability side of the control panel in headless Chromium: a real control plane (PGlite)
 * and a real gateway (dev mode, the OpenAI mock upstream) whose metrics and control-plane-mode logs
 * reach the control plane. Password login as the owner, logs (list, filters, detail with masked
 * secrets, feedback), analytics after traffic, prompts (variables, live render, label moves) and
 * data planes. Fails on any browser console error.
 */
describe('control panel with real traffic', () => {
  let stack: UiStack;
  let upstream: MockServer;
  let page: Page;
  let vkSlug: string;

  const api = async <T = unknown>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${stack.cp.url}${path}`, { ...init, headers: { 'x-portkey-api-key': stack.cp.adminApiKey, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  const chat = (model: string, trace: string, content = 'hello') =>
    fetch(`${stack.gateway!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-portkey-api-key': stack.cp.adminApiKey,
        'x-portkey-virtual-key': vkSlug,
        'x-portkey-trace-id': trace,
        'x-portkey-metadata': JSON.stringify({ team: 'ui-test' }),
      },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
    });

  beforeAll(async () => {
    configureSessions('ui-observability-test-session-secret');
    await buildUi();
    [stack, upstream] = await Promise.all([startUiStack({ gateway: true }), startMockOpenAI({ name: 'upstream', apiKey: PROVIDER_SECRET })]);
    await ensureOwnerUser(stack.cp.db, stack.cp.organisationId, OWNER.email, OWNER.password);

    const vk = await api<{ slug: string }>('/v1/virtual-keys', { method: 'POST', body: JSON.stringify({ name: 'mock openai', provider: 'openai', key: PROVIDER_SECRET, custom_host: `${upstream.url}/v1` }) });
    vkSlug = vk.slug;
    await stack.gateway!.syncNow();

    // Traffic: 3 gpt-4o-mini, 1 gpt-3.5-turbo, 1 upstream failure.
    const sent: number[] = [];
    for (let i = 0; i < 3; i++) sent.push((await chat('gpt-4o-mini', `ui-trace-mini-${i}`, i === 0 ? `my key is ${PASTED_SECRET}` : `hello ${i}`)).status);
    sent.push((await chat('gpt-3.5-turbo', 'ui-trace-turbo')).status);
    upstream.control.fail(500, 1);
    sent.push((await chat('gpt-4o-mini', 'ui-trace-failed')).status);
    expect(sent.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(sent[4]).toBeGreaterThanOrEqual(500);

    // The gateway flushes every 100 ms; wait until all five are indexed (and their bodies stored).
    await waitUntil(async () => (await api<{ total: number }>('/v1/logs?page_size=1')).total >= 5, 'five logs at the control plane');
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    await upstream?.close();
  });
  const ui = browserSuite('obs');
  beforeAll(() => {
    page = ui.page;
  });

  const rows = () => page.locator('main table tbody tr');

  ui.it('logs in with the owner email and password (session cookie), and refuses a wrong password', async () => {
    await page.goto(`${stack.url}/logs`);
    await page.waitForURL(/\/login\?next=%2Flogs/);
    const form = page.getByRole('form', { name: 'Log in with email and password' });
    await form.waitFor();
    await form.getByLabel('Email').fill(OWNER.email);
    await form.getByLabel('Password').fill('not the password');
    await form.getByRole('button', { name: 'Log in', exact: true }).click();
    await expect(page.getByRole('alert').first().textContent()).resolves.toMatch(/Email or password is wrong/);
    const seen = ui.takeConsoleErrors();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((e) => !/status of 401/.test(e))).toEqual([]);

    await form.getByLabel('Password').fill(OWNER.password);
    await form.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(/\/logs$/);
    await page.getByRole('heading', { name: 'Logs', level: 1 }).waitFor();
    const cookies = await ui.context.cookies();
    expect(cookies.find((c) => c.name === 'tollgate_session')?.httpOnly).toBe(true);
    // No API key in the browser: the session is the cookie alone.
    expect(await page.evaluate(() => JSON.stringify({ ...(globalThis as unknown as { sessionStorage: object }).sessionStorage, ...(globalThis as unknown as { localStorage: object }).localStorage }))).not.toContain('tg-');
  });

  ui.it('the logs explorer lists the traffic and filters it by model, status and trace id', async () => {
    await rows().first().waitFor();
    expect(await rows().count()).toBe(5);
    const table = (await page.locator('main table').textContent()) ?? '';
    expect(table).toContain('gpt-4o-mini');
    expect(table).toContain('gpt-3.5-turbo');
    await screenshot(page, 'obs-logs');

    const filters = page.getByRole('form', { name: 'Filters' });
    await filters.getByLabel('Model').fill('gpt-3.5-turbo');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/model=gpt-3\.5-turbo/);
    await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 1);
    expect(await rows().first().textContent()).toContain('gpt-3.5-turbo');

    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 5);
    await filters.getByLabel('Status').selectOption('error');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/status=error/);
    await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 1);
    expect(await rows().first().textContent()).toMatch(/5\d\d/);

    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 5);
    // Clicking a row's trace button filters by that trace id.
    await page.getByRole('button', { name: 'Filter by trace ui-trace-turbo' }).click();
    await page.waitForURL(/trace_id=ui-trace-turbo/);
    await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 1);
    expect(await filters.getByLabel('Trace id').inputValue()).toBe('ui-trace-turbo');
    await screenshot(page, 'obs-logs-trace-filter');
    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 5);
  });

  ui.it('the log detail shows the request and response with secrets masked, and takes feedback', async () => {
    const logs = await api<{ data: { id: string; trace_id: string }[] }>('/v1/logs?trace_id=ui-trace-mini-0');
    const id = logs.data[0].id;
    await page.goto(`${stack.url}/logs/${encodeURIComponent(id)}`);
    const request = page.getByRole('region', { name: 'Request' });
    await request.waitFor();
    await expect(request.textContent()).resolves.toContain('my key is');
    // Pretty-printed: one field a line, indented (not the one-line JSON the gateway stored).
    expect(await request.getByLabel('Request body').textContent()).toMatch(/\n {2,}"messages": \[\n {4,}\{/);
    await expect(page.getByRole('region', { name: 'Response' }).textContent()).resolves.toContain('Hello from upstream');
    const html = await page.content();
    expect(html).not.toContain(PASTED_SECRET);
    expect(html).not.toContain(PROVIDER_SECRET);
    expect(html).not.toContain(stack.cp.adminApiKey);
    await expect(page.getByRole('region', { name: 'Summary' }).textContent()).resolves.toContain('gpt-4o-mini');

    const fb = page.getByRole('form', { name: 'Add feedback' });
    await fb.getByLabel('Score (-10 to 10)').fill('7');
    await fb.getByLabel('Note (optional)').fill('great answer');
    await fb.getByRole('button', { name: 'Add feedback' }).click();
    await page.getByText('Thanks: the feedback is stored').waitFor();
    await page.getByRole('list', { name: 'Feedback on this trace' }).getByText('value 7').waitFor();
    await screenshot(page, 'obs-log-detail');

    const stored = await api<{ feedback: { value: number; metadata: { note?: string } }[] }>(`/v1/logs/${encodeURIComponent(id)}`);
    expect(stored.feedback).toMatchObject([{ value: 7, metadata: { note: 'great answer' } }]);
    // It is still there after a reload (from the API, not the form's state).
    await page.reload();
    await page.getByRole('list', { name: 'Feedback on this trace' }).getByText('great answer').waitFor();
  });

  ui.it('analytics charts render non-empty numbers after the traffic', async () => {
    await page.goto(`${stack.url}/analytics`);
    await page.getByRole('heading', { name: 'Analytics', level: 1 }).waitFor();
    await page.waitForFunction(() => !document.querySelector('.state-loading'));
    const requests = page.locator('#g-requests');
    await requests.waitFor();
    expect(await requests.textContent()).toMatch(/Requests\s*·\s*5\b/);
    expect(await page.locator('#g-errors').textContent()).toMatch(/Errors\s*·\s*1\b/);
    expect(await page.locator('#g-tokens').textContent()).toMatch(/Tokens\s*·\s*(total )?[1-9]/);
    // p50/p95/p99 exactly as the API computes them (p95 is its own percentile, not p90 relabelled).
    const latency = await api<{ summary: { p50: number; p90: number; p95: number; p99: number } }>('/v1/analytics/graphs/latency');
    const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
    expect(await page.locator('#g-latency').textContent()).toBe(`Latency · p50 ${ms(latency.summary.p50)} · p95 ${ms(latency.summary.p95)} · p99 ${ms(latency.summary.p99)}`);
    expect(await page.locator('#g-cost').textContent()).toMatch(/^Cost · \$0\.\d+$/);
    const cache = await api<{ summary: { rate: number } }>('/v1/analytics/graphs/cache-hit-rate');
    expect(await page.locator('#g-cache-hit-rate').textContent()).toBe(`Cache hit rate · ${cache.summary.rate.toLocaleString('en-US', { maximumFractionDigits: 1 })}%`);
    // uPlot drew the charts.
    expect(await page.locator('section.chart canvas').count()).toBeGreaterThan(0);
    const models = page.getByRole('table').filter({ hasText: 'gpt-3.5-turbo' });
    await models.waitFor();
    const mini = models.getByRole('row').filter({ hasText: 'gpt-4o-mini' });
    expect(await mini.textContent()).toMatch(/gpt-4o-mini\s*4/);
    await screenshot(page, 'obs-analytics');
  });

  ui.it('creates a prompt with a variable, renders it live, and moves a label (deploy and roll back)', async () => {
    await page.goto(`${stack.url}/prompts`);
    await page.getByRole('heading', { name: 'Prompts', level: 1 }).waitFor();
    await page.getByRole('button', { name: /New prompt/ }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New prompt' });
    await dialog.getByLabel('Name').fill('support answer');
    await dialog.getByLabel('Virtual key slug (optional)').fill(vkSlug);
    await dialog.getByRole('button', { name: 'Create prompt' }).click();
    await page.waitForURL(/\/prompts\/pp-/);
    await page.getByRole('heading', { name: 'Prompt: support answer' }).waitFor();
    const promptId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);

    const template = page.getByRole('textbox', { name: 'Template' });
    await template.fill(JSON.stringify([{ role: 'user', content: 'Say hi to {{customer}} from {{company}}.' }], null, 2));
    await page.getByLabel('customer', { exact: true }).fill('Ada');
    await page.getByLabel('company', { exact: true }).fill('Tollgate');
    const rendered = page.getByLabel('Rendered prompt');
    await rendered.getByText('Say hi to Ada from Tollgate.').waitFor();
    await page.getByLabel('Version note (optional)').fill('greeting');
    await page.getByRole('button', { name: 'Save new version' }).click();
    const versions = page.getByRole('region', { name: 'Versions and labels' });
    const version = (n: number) => versions.getByRole('listitem').filter({ has: page.getByText(`v${n}`, { exact: true }) });
    await version(2).waitFor();
    // Saving moved `latest` onto v2; `production` stays on v1 until deployed.
    await version(2).getByText('latest', { exact: true }).waitFor();
    await version(1).getByText('production', { exact: true }).waitFor();
    // Versions with a diff: v1 (the default template) against the saved v2.
    await versions.getByRole('button', { name: 'Compare v1 with draft' }).click();
    const diff = versions.getByRole('figure').filter({ hasText: 'v1 → draft' });
    await diff.waitFor();
    expect(await diff.textContent()).toMatch(/added:\s*.*Say hi to \{\{customer\}\} from \{\{company\}\}\./);
    expect(await diff.textContent()).toMatch(/removed:/);
    await screenshot(page, 'obs-prompt-editor');

    // Deploy v2: move `production` onto it.
    const move = versions.getByRole('form', { name: 'Move a label' });
    await move.getByLabel('Label').selectOption('production');
    await move.getByLabel('Move to version').selectOption({ label: 'v2' });
    await move.getByRole('button', { name: /Move label/ }).click();
    await version(2).getByText('production', { exact: true }).waitFor();
    let p = await api<{ labels: Record<string, number> }>(`/v1/prompts/${promptId}`);
    expect(p.labels.production).toBe(2);
    // The gateway renders the deployed version.
    const rendered2 = await api<{ data?: { messages?: { content: string }[] } }>(`/v1/prompts/${promptId}/render`, { method: 'POST', body: JSON.stringify({ variables: { customer: 'Ada', company: 'Tollgate' } }) });
    expect(JSON.stringify(rendered2)).toContain('Say hi to Ada from Tollgate.');

    // The playground runs the deployed prompt through the gateway (same-origin at /gw here).
    const playground = page.getByRole('form', { name: 'Run the prompt' });
    await playground.getByLabel('Gateway URL').fill(`${stack.url}/gw`);
    await playground.getByLabel('API key for the gateway').fill(stack.cp.adminApiKey);
    await stack.gateway!.syncNow();
    await playground.getByRole('button', { name: /Run/ }).click();
    await expect(page.getByLabel('Completion').textContent()).resolves.toContain('Hello from upstream');
    const call = upstream.control.requests.at(-1)!;
    expect(JSON.stringify(call.body)).toContain('Say hi to Ada from Tollgate.');
    await page.getByLabel('API key for the gateway').fill('');

    // Roll back: production onto v1 again.
    await move.getByLabel('Label').selectOption('production');
    await move.getByLabel('Move to version').selectOption({ label: 'v1' });
    await move.getByRole('button', { name: /Move label/ }).click();
    await version(1).getByText('production', { exact: true }).waitFor();
    p = await api<{ labels: Record<string, number> }>(`/v1/prompts/${promptId}`);
    expect(p.labels.production).toBe(1);
    await screenshot(page, 'obs-prompt-rolled-back');
  });

  ui.it('a fallback config created in the UI routes gateway traffic; the logs filter by it; the detail shows the fallback path, timings and cost', async () => {
    await page.goto(`${stack.url}/configs/new`);
    await page.getByLabel('Name').fill('ui routed');
    const targets = [{ virtual_key: vkSlug }, { virtual_key: vkSlug, override_params: { model: 'gpt-4o' } }];
    await page.getByRole('textbox', { name: 'Config JSON' }).fill(JSON.stringify({ strategy: { mode: 'fallback' }, targets }, null, 2));
    await page.getByTestId('config-valid').waitFor();
    await page.getByRole('button', { name: 'Create config' }).click();
    await page.waitForURL(/\/configs\/pc-/);
    const slug = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await stack.gateway!.syncNow();
    // The first target's upstream call fails once: the gateway falls back to the second.
    upstream.control.fail(500, 1);
    const res = await fetch(`${stack.gateway!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': stack.cp.adminApiKey, 'x-portkey-config': slug, 'x-portkey-trace-id': 'ui-trace-config' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'via a config' }] }),
    });
    expect(res.status).toBe(200);
    await waitUntil(async () => (await api<{ total: number }>(`/v1/logs?page_size=1&configs=${slug}`)).total >= 1, 'the config-routed request at the control plane');
    await page.goto(`${stack.url}/logs`);
    await rows().first().waitFor();
    const filters = page.getByRole('form', { name: 'Filters' });
    await filters.getByLabel('Config').selectOption({ label: 'ui routed' });
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/config=/);
    await page.waitForFunction(() => document.querySelectorAll('main table tbody tr').length === 1);
    await page.getByRole('button', { name: 'Filter by trace ui-trace-config' }).waitFor();
    await screenshot(page, 'obs-logs-config-filter');

    await rows().first().getByRole('link').click();
    const routing = page.getByRole('region', { name: 'Timings, retries and fallbacks' });
    const hops = routing.getByRole('list', { name: 'Fallback path' }).getByRole('listitem');
    await expect.poll(() => hops.allTextContents()).toEqual([
      expect.stringMatching(new RegExp(`config\\.targets\\[0\\] · ${vkSlug} · failed`)),
      expect.stringMatching(new RegExp(`config\\.targets\\[1\\] · ${vkSlug} · answered`)),
    ]);
    const kv = (await routing.textContent()) ?? '';
    expect(kv).toMatch(/Rescued by\s*fallback/);
    expect(kv).toMatch(/Total\s*\d+ ms/);
    expect(kv).toMatch(/Upstream \(provider\)\s*\d+ ms/);
    expect(kv).toMatch(/Gateway processing\s*\d+ ms/);
    const log = (await api<{ data: { cost: number; cache_status: string; model: string }[] }>(`/v1/logs?trace_id=ui-trace-config`)).data[0];
    const stats = page.locator('.grid-cards');
    expect(await stats.textContent()).toContain(`Cache${log.cache_status}`);
    expect(log.cost).toBeGreaterThan(0);
    expect(await stats.textContent()).toContain(`Cost$${(log.cost / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`);
  });

  ui.it('the charts move with more traffic', async () => {
    await page.goto(`${stack.url}/analytics`);
    await page.locator('#g-requests').waitFor();
    const before = Number(/Requests\s*·\s*([\d,]+)/.exec((await page.locator('#g-requests').textContent()) ?? '')?.[1]?.replace(/,/g, ''));
    expect(before).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < 3; i++) expect((await chat('gpt-4o-mini', `ui-trace-more-${i}`)).status).toBe(200);
    await waitUntil(async () => (await api<{ total: number }>('/v1/logs?page_size=1')).total >= before + 3, 'the new traffic at the control plane');
    await page.reload();
    await page.locator('#g-requests').getByText(new RegExp(`·\\s*${before + 3}\\b`)).waitFor();
    await screenshot(page, 'obs-analytics-moved');
  });

  ui.it('an API key revoked in the UI stops working at the gateway', async () => {
    const created = await api<{ key: string }>('/v1/api-keys/organisation/service', {
      method: 'POST',
      body: JSON.stringify({ name: 'gateway caller', scopes: ['completions.write', 'logs.write'] }),
    });
    await stack.gateway!.syncNow();
    const call = () =>
      fetch(`${stack.gateway!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-portkey-api-key': created.key, 'x-portkey-virtual-key': vkSlug },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
    expect((await call()).status).toBe(200);

    await page.goto(`${stack.url}/api-keys`);
    await page.getByRole('button', { name: 'Revoke gateway caller' }).click();
    await page.getByRole('dialog', { name: 'Revoke gateway caller?' }).getByRole('button', { name: 'Revoke key' }).click();
    await page.getByRole('row').filter({ hasText: 'gateway caller' }).getByText('revoked').waitFor();
    await stack.gateway!.syncNow();
    expect((await call()).status).toBe(401);
    await screenshot(page, 'obs-api-key-revoked');
  });

  ui.it('organisation: the owner is listed, an invite is created from the UI; the audit log shows who changed what', async () => {
    await page.goto(`${stack.url}/organisation?tab=users`);
    await page.getByRole('row').filter({ hasText: OWNER.email }).waitFor();
    expect(await page.getByRole('row').filter({ hasText: OWNER.email }).textContent()).toContain('owner');

    await page.goto(`${stack.url}/organisation?tab=invites`);
    const form = page.getByRole('form', { name: 'Invite a user' });
    await form.getByLabel('Email').fill('new.person@ui.test');
    await form.getByRole('button', { name: 'Send invite' }).click();
    await page.getByText('Invite link:').waitFor();
    await page.getByRole('row').filter({ hasText: 'new.person@ui.test' }).waitFor();
    const invites = await api<{ data: { email: string }[] }>('/v1/admin/users/invites');
    expect(invites.data.map((i) => i.email)).toContain('new.person@ui.test');

    await page.goto(`${stack.url}/audit-log`);
    const entry = page.getByRole('row').filter({ hasText: 'prompts.update' }).first();
    await entry.waitFor();
    const text = (await entry.textContent()) ?? '';
    // Done in the UI as the owner (a user session), on the prompt's resource, never "[object Object]".
    expect(text).toContain('user');
    expect(text).toContain('prompts');
    expect(await page.locator('main table').textContent()).not.toContain('[object Object]');
    await page.getByLabel('Resource type').selectOption('api_keys');
    await page.getByRole('form', { name: 'Audit filters' }).getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/resource=api_keys/);
    // The unfiltered list already had api_keys rows: wait for the prompts rows to leave (the filtered
    // list has rendered), which times out if the filter does not apply.
    await page.getByRole('row').filter({ hasText: 'prompts.update' }).first().waitFor({ state: 'detached' });
    await page.getByRole('row').filter({ hasText: 'api_keys.update' }).first().waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'prompts.update' }).count()).toBe(0);
    await screenshot(page, 'obs-audit-log');
  });

  ui.it('the data-planes page lists the gateway', async () => {
    await page.goto(`${stack.url}/data-planes`);
    await page.getByRole('heading', { name: 'Data planes', level: 1 }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'ui-test-gateway' });
    await row.waitFor();
    const cells = (await row.getByRole('cell').allTextContents()).map((c) => c.trim());
    // Gateway, version, health, last heartbeat, sync age, synced revision, cache, up since.
    expect(cells[1]).toMatch(/^\d+\.\d+\.\d+/);
    expect(cells[2]).toMatch(/healthy|ok/i);
    expect(cells[3]).toMatch(/^\d+s ago$/);
    expect(cells[4]).toMatch(/^\d+(\.\d)? s$/);
    expect(Number(cells[5].split(' ')[0])).toBeGreaterThan(0);
    await screenshot(page, 'obs-data-planes');
  });

  ui.it('live tail shows a new request without a reload', async () => {
    await page.goto(`${stack.url}/logs`);
    await rows().first().waitFor();
    await page.getByLabel('Live tail').check();
    expect((await chat('gpt-4o-mini', 'ui-trace-live')).status).toBe(200);
    // The page polls the newest page every 3 s; the new row arrives with no navigation.
    await page.getByRole('button', { name: 'Filter by trace ui-trace-live' }).waitFor({ timeout: 15_000 });
    await screenshot(page, 'obs-live-tail');
    await page.getByLabel('Live tail').uncheck();
  });

});
