import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveUi } from '../../runtime/control-plane/ui-static.js';
import { buildUi, distDir, repoRoot, uiRoot } from './ui-harness.js';

const BUDGET_GZIP = 300 * 1024;

/** Every module the entry loads before the first render: the entry script and its static imports. */
function initialJs(): { files: string[]; gzipBytes: number } {
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const entries = [...html.matchAll(/<script[^>]+src="\/([^"]+\.js)"/g), ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/([^"]+\.js)"/g)].map((m) => m[1]);
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(distDir, file), 'utf8');
    // Static imports only (`import ... from "./x.js"` / `import "./x.js"`), not `import("./x.js")`.
    for (const m of code.matchAll(/(?:^|[;}\n])\s*import\s*(?:[\w*{}\s,$]+from\s*)?["']\.\/([^"']+\.js)["']/g)) visit(`assets/${m[1]}`);
  };
  entries.forEach(visit);
  const files = [...seen];
  return { files, gzipBytes: files.reduce((n, f) => n + gzipSync(readFileSync(join(distDir, f))).length, 0) };
}

describe('control panel build', () => {
  beforeAll(async () => {
    await buildUi();
  }, 120_000);

  it('typechecks on its own tsconfig', () => {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(uiRoot, 'tsconfig.json')], { cwd: repoRoot, stdio: 'pipe' });
  }, 120_000);

  it('keeps the initial JavaScript under 300 KB gzipped and charts out of it', () => {
    const { files, gzipBytes } = initialJs();
    expect(files.length).toBeGreaterThan(0);
    expect(gzipBytes).toBeLessThan(BUDGET_GZIP);
    // uPlot and the config schema (zod) are code-split into the pages that use them.
    const initialCode = files.map((f) => readFileSync(join(distDir, f), 'utf8')).join('\n');
    expect(initialCode).not.toContain('uplot');
    expect(initialCode).not.toContain('u-legend');
    process.stdout.write(`[ui] initial JS: ${files.length} file(s), ${(gzipBytes / 1024).toFixed(1)} KB gzipped\n`);
  });
});

describe('serveUi', () => {
  let server: Server;
  let base: string;
  const root = mkdtempSync(join(tmpdir(), 'tollgate-ui-static-'));
  beforeAll(async () => {
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>ui</title>');
    writeFileSync(join(root, 'assets/app-abc123.js'), 'console.log(1)');
    writeFileSync(join(root, 'assets/app-abc123.css'), 'body{}');
    writeFileSync(join(root, '..', 'tollgate-secret.txt'), 'secret');
    server = createServer(async (req, res) => {
      if (await serveUi(req, res, { root })) return;
      res.writeHead(418).end('api');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(root, { recursive: true, force: true });
    rmSync(join(root, '..', 'tollgate-secret.txt'), { force: true });
  });

  it('serves hashed assets with their type and a long immutable cache', async () => {
    const js = await fetch(`${base}/assets/app-abc123.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await js.text()).toBe('console.log(1)');
    const css = await fetch(`${base}/assets/app-abc123.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const again = await fetch(`${base}/assets/app-abc123.js`, { headers: { 'if-none-match': js.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('answers index.html (no-cache) for client routes, 404 for missing assets', async () => {
    for (const path of ['/', '/logs', '/configs/pc-abc', '/organisation?tab=users']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(await res.text()).toContain('<title>ui</title>');
    }
    expect((await fetch(`${base}/assets/gone-123.js`)).status).toBe(404);
    const head = await fetch(`${base}/logs`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('leaves the API and other methods to the router', async () => {
    expect((await fetch(`${base}/v1/configs`)).status).toBe(418);
    expect((await fetch(`${base}/v1`)).status).toBe(418);
    expect((await fetch(`${base}/logs`, { method: 'POST', body: '{}' })).status).toBe(418);
  });

  it('never serves files outside its root', async () => {
    const { request } = await import('node:http');
    const raw = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${base}${path}`, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const path of ['/../tollgate-secret.txt', '/assets/../../tollgate-secret.txt', '/%2e%2e/tollgate-secret.txt', '/..%2ftollgate-secret.txt', '/assets/%2e%2e%2f%2e%2e%2ftollgate-secret.txt', '/%00']) {
      const res = await raw(path);
      expect(res.body, path).not.toContain('secret');
      expect([400, 404], path).toContain(res.status);
    }
  });

  it('explains how to build when dist is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tollgate-ui-empty-'));
    const s = createServer(async (req, res) => void (await serveUi(req, res, { root: empty })));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/logs`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build:ui');
    await new Promise<void>((r) => s.close(() => r()));
    rmSync(empty, { recursive: true, force: true });
  });
});
