import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it, type TestContext } from 'vitest';

/** Browser side of the ui-*.test.ts files: Chromium, console watching, screenshots, and the per-suite hooks. */

export const artifactsDir = process.env.TOLLGATE_UI_ARTIFACTS ?? join(tmpdir(), 'tollgate-ui-artifacts');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * Collects browser console errors and page errors. The only failures allowed are the login page's
 * GET probes of its sign-in routes: `/v1/auth/login` answers 405 (it exists, POST only) and
 * `/v1/auth/oidc/login` 404 until OIDC is configured; the page offers only what exists. Every other
 * API the UI calls exists, so any other failed load is an error.
 */
export function watchConsole(page: Page, allowedProbe: RegExp = /\/v1\/auth\/(oidc\/)?login$/): string[] {
  const errors: string[] = [];
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() !== 'error') return;
    const where = msg.location()?.url ?? '';
    if (/Failed to load resource: the server responded with a status of (404|405)/.test(msg.text()) && allowedProbe.test(where)) return;
    errors.push(`${msg.text()} @ ${where}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name.replace(/[^\w.-]+/g, '-').slice(0, 120)}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface BrowserSuite {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Returns and forgets the console errors so far: for a test that causes some on purpose (a wrong password's 401) and checks them. */
  takeConsoleErrors(): string[];
  /**
   * `it`, plus a full-page screenshot when the test ends, pass or fail (`<prefix>-<test name>.png` in
   * `artifactsDir`, attached to the test's report).
   */
  it(name: string, fn: (ctx: TestContext) => Promise<void>, timeoutMs?: number): void;
}

/**
 * Registers the hooks every browser suite shares: a browser, context and page before the tests;
 * after each test a check that it caused no browser console error (the test fails otherwise);
 * everything closed afterwards. Call inside `describe`, after the suite's own beforeAll, and write
 * the tests with the returned `it` so each saves its screenshot.
 */
export function browserSuite(prefix: string, opts: { viewport?: { width: number; height: number }; timeoutMs?: number } = {}): BrowserSuite {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 900 } });
    page = await context.newPage();
    // Generous: two cores are shared with other test runs; every wait is for a condition, never a fixed sleep.
    page.setDefaultTimeout(opts.timeoutMs ?? 20_000);
    errors = watchConsole(page);
  }, 120_000);
  afterEach(() => {
    const seen = errors.splice(0);
    expect(seen, 'browser console errors during this test').toEqual([]);
  });
  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
  });
  return {
    get browser() {
      return browser;
    },
    get context() {
      return context;
    },
    get page() {
      return page;
    },
    takeConsoleErrors: () => errors.splice(0),
    it: (name, fn, timeoutMs) =>
      it(
        name,
        async (ctx) => {
          try {
            await fn(ctx);
          } finally {
            if (page && !page.isClosed()) {
              const path = await screenshot(page, `${prefix}-${name}`);
              await ctx.annotate(`screenshot ${path}`, 'screenshot', { path, contentType: 'image/png' });
            }
          }
        },
        timeoutMs,
      ),
  };
}

/** API-key login through the login page; lands on `next`. */
export async function loginWithKey(page: Page, url: string, key: string, next = '/logs'): Promise<void> {
  await page.goto(`${url}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('API key', { exact: true }).fill(key);
  await page.getByRole('button', { name: 'Log in with API key' }).click();
  await page.waitForURL((u) => u.pathname === next.split('?')[0]);
}

/** Polls `check` until it holds (telemetry arrives asynchronously); the error names what never happened. */
export async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
