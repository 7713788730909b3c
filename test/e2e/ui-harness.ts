import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileLogStore } from '../../runtime/adapters/file-log-store.js';
import { localKeyring } from '../../runtime/adapters/local-keyring.js';
import { memoryCache } from '../../runtime/adapters/memory-cache.js';
import type { Keyring } from '../../runtime/core/keyring.js';
import { silentLogger } from '../../runtime/core/logger.js';
import { withTenant } from '../../runtime/control-plane/db/tenant.js';
import { startControlPlane, type RunningControlPlane } from '../../runtime/control-plane/server.js';
import { serveUi } from '../../runtime/control-plane/ui-static.js';
import { startGateway, type RunningGateway } from '../../runtime/gateway/server.js';

export { artifactsDir, launchBrowser, screenshot, watchConsole } from './ui-browser.js';

/** Shared by the ui-*.test.ts files: build the UI once, serve it with a real control plane, drive Chromium. */

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const uiRoot = join(repoRoot, 'runtime/ui');
export const distDir = join(uiRoot, 'dist');

function sourceHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(p).update(readFileSync(p));
    }
  };
  walk(join(uiRoot, 'src'));
  for (const f of ['index.html', 'vite.config.ts']) h.update(readFileSync(join(uiRoot, f)));
  h.update(readFileSync(join(repoRoot, 'runtime/core/config-schema.ts')));
  return h.digest('hex');
}

/**
 * Builds runtime/ui/dist unless it is already built from these exact sources. Test files run in
 * parallel, so a lock directory keeps two builds from writing dist at once.
 */
export async function buildUi(): Promise<void> {
  const lock = join(uiRoot, '.build-lock');
  const stamp = join(distDir, '.source-hash');
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 600) throw new Error(`UI build lock ${lock} held for too long; remove it if no build runs`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const hash = sourceHash();
    if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
    execFileSync(process.execPath, [join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', '--config', join(uiRoot, 'vite.config.ts')], {
      cwd: repoRoot,
      stdio: 'pipe',
    });
    writeFileSync(stamp, hash);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface UiStack {
  url: string;
  cp: RunningControlPlane;
  keyring: Keyring;
  /**
   * With `startUiStack({ gateway: true })`: a real gateway (dev mode) synced from `cp`, shipping
   * metrics and control-plane-mode logs to it; also reachable same-origin at `${url}/gw`.
   */
  gateway?: RunningGateway;
  close(): Promise<void>;
}

/**
 * A real control plane plus a same-origin wrapper: serveUi first, everything else proxied to the API.
 * `gateway: true` also starts a gateway against it (telemetry flushed every 100 ms, full logs kept
 * in the control plane, or with `logMode: 'customer'` in the gateway's own store); `inMemoryDb` keeps
 * the database in memory.
 */
export async function startUiStack(opts: { gateway?: boolean; inMemoryDb?: boolean; logMode?: 'control-plane' | 'customer' } = {}): Promise<UiStack> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-ui-'));
  const keyring = await localKeyring(join(dir, 'keyring.json'));
  const cp = await startControlPlane({ port: 0, dataDir: opts.inMemoryDb ? undefined : dir, keyring, logger: silentLogger, devMode: true });
  const gateway = opts.gateway
    ? await startGateway({
        port: 0,
        controlPlaneUrl: cp.url,
        dataPlaneToken: cp.dataPlaneToken,
        keyring,
        cache: memoryCache(),
        devMode: true,
        logger: silentLogger,
        syncIntervalMs: 3_600_000,
        instanceId: 'ui-test-gateway',
        // customer: full logs stay in the gateway's own store (a directory here); the control plane fetches them from the gateway.
        logStore: opts.logMode === 'customer' ? fileLogStore(join(dir, 'gateway-logs')) : undefined,
        telemetry: { logMode: opts.logMode ?? 'control-plane', flushIntervalMs: 100 },
      })
    : undefined;
  const upstream = new URL(cp.url);
  const server: Server = createServer(async (req, res) => {
    try {
      if (await serveUi(req, res, { root: distDir })) return;
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
      return;
    }
    // `/gw/...` reaches the gateway same-origin (as a reverse proxy would), for the prompt playground.
    const target = gateway && req.url?.startsWith('/gw/') ? new URL(gateway.url) : upstream;
    const path = target === upstream ? req.url : req.url!.slice(3);
    const proxied = request(
      // A fresh connection per request: a reused keep-alive socket the server has just closed would turn into a 502.
      { host: target.hostname, port: target.port, path, method: req.method, headers: req.headers, agent: false },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    proxied.on('error', () => !res.headersSent && res.writeHead(502).end());
    req.pipe(proxied);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    cp,
    keyring,
    gateway,
    async close() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      // A test may have stopped the gateway already (the data plane going away).
      await gateway?.close().catch(() => undefined);
      await cp.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Seeds `count` log index rows (the `request_metrics` table the logs and analytics APIs read) in one
 * INSERT … SELECT generate_series, spread over the last `count / 2` seconds (inside the UI's default
 * 24 h range up to 172,800 rows): three models (two providers), 2% errors, 10% cache hits, five
 * teams in metadata, a trace id each; with `refs`, every 4th row is the API key, every 5th the
 * config and every 8th the prompt. Returns how long the insert took.
 */
export async function seedLogs(cp: RunningControlPlane, count: number, refs: { apiKeyId?: string; configId?: string; promptId?: string } = {}): Promise<number> {
  const started = performance.now();
  await withTenant(cp.db, cp.organisationId, (db) =>
    db.query(
      `INSERT INTO request_metrics (organisation_id, id, workspace_id, created_at, provider, model, endpoint, method, stream, status, success,
         cache_status, retry_count, req_units, res_units, total_units, units_estimated, cost, currency, cost_unknown, total_ms, upstream_ms, gateway_ms,
         trace_id, metadata, api_key_id, config_id, prompt_id)
       SELECT $1, 'seed-' || g, $2, now() - g * interval '500 milliseconds',
         CASE WHEN g % 3 = 2 THEN 'anthropic' ELSE 'openai' END,
         (ARRAY['gpt-4o-mini', 'gpt-4o', 'claude-3-5-sonnet'])[1 + g % 3],
         'chatComplete', 'POST', false,
         CASE WHEN g % 50 = 0 THEN 500 ELSE 200 END, g % 50 <> 0,
         CASE WHEN g % 10 = 0 THEN 'HIT' ELSE 'MISS' END, 0,
         20 + g % 200, 10 + g % 300, 30 + g % 200 + g % 300, false,
         (g % 7) * 0.0125, 'USD', false, 80 + g % 900, 70 + g % 900, 10,
         'seed-trace-' || g, jsonb_build_object('team', 'team-' || g % 5),
         CASE WHEN g % 4 = 0 THEN $4::text END, CASE WHEN g % 5 = 0 THEN $5::text END, CASE WHEN g % 8 = 0 THEN $6::text END
       FROM generate_series(1, $3::int) AS g`,
      [cp.organisationId, cp.defaultWorkspaceId, count, refs.apiKeyId ?? null, refs.configId ?? null, refs.promptId ?? null],
    ),
  );
  return performance.now() - started;
}

/** Counts log index rows straight from the table (`where` over its columns): the expected answer for a filter, computed without the API. */
export async function countLogs(cp: RunningControlPlane, where: string, params: unknown[] = []): Promise<number> {
  const { rows } = await withTenant(cp.db, cp.organisationId, (db) => db.query<{ n: number }>(`SELECT count(*)::int AS n FROM request_metrics WHERE ${where}`, params));
  return Number(rows[0].n);
}
