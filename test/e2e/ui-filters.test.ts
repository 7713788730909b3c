import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { browserSuite, loginWithKey } from './ui-browser.js';
import { buildUi, countLogs, seedLogs, startUiStack, type UiStack } from './ui-harness.js';

/**
 * 100,000 seeded logs: the first page renders with the full total and pages server-side (how fast is
 * bench/ui-logs-page.ts's job), and every filter of the logs explorer and the analytics dashboards
 * narrows to exactly the rows the table holds for it (counted with SQL, not through the API).
 */
describe('logs explorer and analytics filters over 100,000 logs', () => {
  let stack: UiStack;
  let page: Page;
  const refs = { apiKeyId: '', configSlug: '', configId: '', promptId: '' };

  beforeAll(async () => {
    await buildUi();
    stack = await startUiStack();
    const post = async <T>(path: string, body: unknown): Promise<T> => {
      const res = await fetch(`${stack.cp.url}${path}`, { method: 'POST', headers: { 'x-portkey-api-key': stack.cp.adminApiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const key = await post<{ id: string }>('/v1/api-keys/organisation/service', { name: 'seeded caller', scopes: ['completions.write'] });
    const config = await post<{ id: string; slug: string }>('/v1/configs', { name: 'seeded config', config: { provider: 'openai' } });
    const prompt = await post<{ id: string }>('/v1/prompts', { name: 'seeded prompt', string: JSON.stringify([{ role: 'user', content: 'hi {{name}}' }]), model: 'gpt-4o-mini' });
    Object.assign(refs, { apiKeyId: key.id, configSlug: config.slug, configId: config.id, promptId: prompt.id });
    await seedLogs(stack.cp, 100_000, { apiKeyId: key.id, configId: config.id, promptId: prompt.id });
  }, 180_000);
  afterAll(() => stack?.close());
  const ui = browserSuite('filters', { timeoutMs: 60_000 });
  beforeAll(() => {
    page = ui.page;
  });

  const pager = () => page.getByRole('navigation', { name: 'Logs pages' });
  const shownTotal = async () => Number(/([\d,]+) total/.exec((await pager().textContent()) ?? '')?.[1]?.replace(/,/g, '') ?? NaN);
  const requestsShown = async () => Number(/Requests\s*·\s*([\d,]+)/.exec((await page.locator('#g-requests').textContent()) ?? '')?.[1]?.replace(/,/g, '') ?? NaN);

  /** Opens `path` unfiltered, sets one filter in the form, applies it, and waits for the URL to carry it. */
  async function filterBy(path: string, param: string, set: (form: Locator) => Promise<unknown>): Promise<void> {
    await page.goto(`${stack.url}${path}`);
    const form = page.getByRole('form', { name: 'Filters' });
    await form.waitFor();
    await set(form);
    await form.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL((u) => u.searchParams.has(param));
  }

  ui.it('shows the first page, the total, and the next page', async () => {
    await loginWithKey(page, stack.url, stack.cp.adminApiKey);
    const rows = page.locator('main table tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(50);
    expect(await pager().textContent()).toMatch(/Page 1 of 2,000 · 100,000 total/);
    // Newest first: the seeded row 1 is the most recent.
    await rows.first().getByRole('button', { name: 'Filter by trace seed-trace-1', exact: true }).waitFor();
    await pager().getByRole('button', { name: 'Next →' }).click();
    await page.waitForURL(/page=1/);
    await pager().getByText('Page 2 of 2,000').waitFor();
    expect(await rows.count()).toBe(50);
    await rows.first().getByRole('button', { name: 'Filter by trace seed-trace-51', exact: true }).waitFor();
  });

  const cases: { name: string; param: string; set: (f: Locator) => Promise<unknown>; where: () => [string, unknown[]] }[] = [
    { name: 'model', param: 'model', set: (f) => f.getByLabel('Model').fill('gpt-4o'), where: () => [`model = 'gpt-4o'`, []] },
    { name: 'provider', param: 'provider', set: (f) => f.getByLabel('Provider').fill('anthropic'), where: () => [`provider = 'anthropic'`, []] },
    { name: 'status', param: 'status', set: (f) => f.getByLabel('Status').selectOption('500'), where: () => ['status = 500', []] },
    {
      name: 'cost',
      param: 'cost_min',
      set: async (f) => {
        await f.getByLabel('Cost min (USD)').fill('0.0005');
        await f.getByLabel('Cost max (USD)').fill('0.0006');
      },
      where: () => ['cost >= 0.05 AND cost <= 0.06', []],
    },
    { name: 'API key', param: 'api_key', set: (f) => f.getByLabel('API key').selectOption({ label: 'seeded caller' }), where: () => ['api_key_id = $1', [refs.apiKeyId]] },
    { name: 'config', param: 'config', set: (f) => f.getByLabel('Config').selectOption({ label: 'seeded config' }), where: () => ['config_id = $1', [refs.configId]] },
    { name: 'prompt', param: 'prompt', set: (f) => f.getByLabel('Prompt').selectOption({ label: 'seeded prompt' }), where: () => ['prompt_id = $1', [refs.promptId]] },
    { name: 'trace id', param: 'trace_id', set: (f) => f.getByLabel('Trace id').fill('seed-trace-42'), where: () => [`trace_id = 'seed-trace-42'`, []] },
    { name: 'metadata', param: 'metadata', set: (f) => f.getByLabel('Metadata').fill('team=team-3'), where: () => [`metadata->>'team' = 'team-3'`, []] },
  ];

  for (const c of cases) {
    ui.it(`the logs explorer filters by ${c.name}`, async () => {
      const expected = await countLogs(stack.cp, ...c.where());
      expect(expected).toBeGreaterThan(0);
      expect(expected).toBeLessThan(100_000);
      await filterBy('/logs', c.param, c.set);
      await expect.poll(shownTotal, { timeout: 90_000 }).toBe(expected);
    }, 120_000);
  }

  ui.it('the logs explorer filters by time range', async () => {
    await page.goto(`${stack.url}/logs`);
    await page.getByRole('form', { name: 'Filters' }).waitFor();
    await page.getByLabel('Time range').selectOption('1h');
    await page.waitForURL(/range=1h/);
    // Rows are 0.5 s apart ending at the seed time: the last hour holds at most 7,200 of them.
    await expect.poll(shownTotal, { timeout: 90_000 }).toBeLessThanOrEqual(7_200);
    expect(await shownTotal()).toBeGreaterThan(6_000);
  });

  ui.it('analytics take the same time range', async () => {
    await page.goto(`${stack.url}/analytics`);
    await expect.poll(requestsShown, { timeout: 90_000 }).toBe(100_000);
    await page.getByLabel('Time range').selectOption('1h');
    await page.waitForURL(/range=1h/);
    await expect.poll(requestsShown, { timeout: 90_000 }).toBeLessThanOrEqual(7_200);
    expect(await requestsShown()).toBeGreaterThan(6_000);
  }, 240_000);

  for (const c of cases.filter((c) => ['provider', 'cost', 'API key', 'metadata', 'prompt', 'config'].includes(c.name))) {
    ui.it(`analytics take the same ${c.name} filter`, async () => {
      const expected = await countLogs(stack.cp, ...c.where());
      await filterBy('/analytics', c.param, c.set);
      await expect.poll(requestsShown, { timeout: 90_000 }).toBe(expected);
    }, 120_000);
  }

  ui.it('analytics show cache hit rate, latency p50/p95/p99 and the top models and metadata values', async () => {
    await page.goto(`${stack.url}/analytics?range=24h`);
    await expect.poll(requestsShown, { timeout: 90_000 }).toBe(100_000);
    // 10% of the seeded rows are cache hits.
    expect(await page.locator('#g-cache-hit-rate').textContent()).toBe('Cache hit rate · 10%');
    // Latency is 80 + g % 900 ms: p50 ≈ 530, p95 ≈ 935, p99 ≈ 971 (interpolated the same way the API does).
    const latency = (await page.locator('#g-latency').textContent()) ?? '';
    const [p50, p95, p99] = [...latency.matchAll(/p(50|95|99) (\d+) ms/g)].map((m) => Number(m[2]));
    expect(p50).toBeGreaterThanOrEqual(520);
    expect(p50).toBeLessThanOrEqual(540);
    expect(p95).toBeGreaterThanOrEqual(925);
    expect(p95).toBeLessThanOrEqual(945);
    expect(p99).toBeGreaterThanOrEqual(965);
    expect(p99).toBeLessThanOrEqual(980);
    const models = page.getByRole('table', { name: 'Top models' });
    expect(await models.getByRole('row').filter({ hasText: 'claude-3-5-sonnet' }).textContent()).toMatch(/claude-3-5-sonnet\s*33,333/);

    const group = page.getByRole('form', { name: 'Group by metadata key' });
    await group.getByLabel('Metadata key').fill('team');
    await group.getByRole('button', { name: 'Group' }).click();
    const byTeam = page.getByRole('table', { name: 'By team' });
    await byTeam.waitFor();
    expect(await byTeam.getByRole('row').filter({ hasText: 'team-3' }).textContent()).toMatch(/team-3\s*20,000/);
    expect(await byTeam.locator('tbody tr').count()).toBe(5);
  }, 180_000);
});
