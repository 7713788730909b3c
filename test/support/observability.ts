import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { Portkey } from 'portkey-ai';
import { fileLogStore } from '../../runtime/adapters/file-log-store.js';
import { localKeyring } from '../../runtime/adapters/local-keyring.js';
import { memoryCache } from '../../runtime/adapters/memory-cache.js';
import type { Keyring } from '../../runtime/core/keyring.js';
import { jsonLogger, silentLogger } from '../../runtime/core/logger.js';
import type { LogStore } from '../../runtime/core/ports.js';
import { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from '../../runtime/control-plane/server.js';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../runtime/gateway/server.js';
import type { MockServer } from './mock-base.js';
import { startMockAnthropic } from './mock-anthropic.js';
import { startMockOpenAI } from './mock-openai.js';

/** Secrets the observability tests plant: none may appear in a stored log, metric or log line. */
export const PRIMARY_SECRET = 'sk-obs-primary-0123456789abcdefghijkl';
export const BACKUP_SECRET = 'sk-obs-backup-0123456789abcdefghijkl';
export const ANTHROPIC_SECRET = 'sk-ant-obs-0123456789abcdefghijkl';

export interface ObsHarness {
  dir: string;
  keyring: Keyring;
  cp: RunningControlPlane;
  gateway: RunningGateway;
  primary: MockServer;
  backup: MockServer;
  anthropic: MockServer;
  admin: Portkey;
  slugs: Record<'primary' | 'backup' | 'claude' | 'config', string>;
  configId: string;
  gatewayLogLines: string[];
  gatewayLogStore: LogStore;
  openai(headers?: Record<string, string>): OpenAI;
  /** Admin-keyed fetch against the control plane. */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  startGateway(overrides?: Partial<GatewayOptions>): Promise<RunningGateway>;
  restartControlPlane(overrides?: Partial<ControlPlaneOptions>): Promise<void>;
  stopControlPlane(): Promise<void>;
  close(): Promise<void>;
}

export async function waitFor<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(100);
  }
}

export async function startObsHarness(
  opts: { gateway?: Partial<GatewayOptions>; controlPlane?: Partial<ControlPlaneOptions>; databaseUrl?: string } = {},
): Promise<ObsHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-obs-'));
  const keyring = await localKeyring(join(dir, 'keyring.json'));
  const [primary, backup, anthropic] = await Promise.all([
    startMockOpenAI({ name: 'primary', apiKey: PRIMARY_SECRET }),
    startMockOpenAI({ name: 'backup', apiKey: BACKUP_SECRET }),
    startMockAnthropic({ apiKey: ANTHROPIC_SECRET } as never),
  ]);
  const cpOptions = (): ControlPlaneOptions => ({
    port: cpPort,
    dataDir: opts.databaseUrl ? undefined : join(dir, 'cp'),
    databaseUrl: opts.databaseUrl,
    keyring,
    devMode: true,
    logger: silentLogger,
    adminApiKey,
    dataPlaneToken,
    ...opts.controlPlane,
  });
  let cpPort = 0;
  let adminApiKey: string | undefined;
  let dataPlaneToken: string | undefined;
  let cp = await startControlPlane(cpOptions());
  cpPort = Number(new URL(cp.url).port);
  adminApiKey = cp.adminApiKey;
  dataPlaneToken = cp.dataPlaneToken;
  const admin = new Portkey({ apiKey: cp.adminApiKey, baseURL: `${cp.url}/v1` });

  const slugs = {} as ObsHarness['slugs'];
  for (const [name, provider, key, host] of [
    ['primary', 'openai', PRIMARY_SECRET, primary.url],
    ['backup', 'openai', BACKUP_SECRET, backup.url],
    ['claude', 'anthropic', ANTHROPIC_SECRET, anthropic.url],
  ] as const) {
    const vk = (await admin.virtualKeys.create({ name, provider, key, custom_host: `${host}/v1` } as never)) as { slug: string };
    slugs[name] = vk.slug;
  }
  const config = (await admin.configs.create({
    name: 'prod',
    config: { strategy: { mode: 'fallback' }, targets: [{ virtual_key: slugs.primary }, { virtual_key: slugs.backup }] },
  })) as { slug: string; id: string };
  slugs.config = config.slug;
  const configRow = (await (await fetch(`${cp.url}/v1/configs/${config.slug}`, { headers: { 'x-portkey-api-key': cp.adminApiKey } })).json()) as { id: string };

  const gatewayLogLines: string[] = [];
  const gatewayLogStore = fileLogStore(join(dir, 'gateway-logs'));
  const gateways: RunningGateway[] = [];
  const start = async (overrides: Partial<GatewayOptions> = {}) => {
    const gw = await startGateway({
      port: 0,
      controlPlaneUrl: cp.url,
      dataPlaneToken: cp.dataPlaneToken,
      keyring,
      cache: memoryCache(),
      logStore: gatewayLogStore,
      syncIntervalMs: 3_600_000,
      devMode: true,
      logger: jsonLogger('gateway', (line) => gatewayLogLines.push(line)),
      ...opts.gateway,
      ...overrides,
      telemetry: { flushIntervalMs: 150, retryBaseMs: 100, retryMaxMs: 500, spoolDir: join(dir, 'spool'), ...opts.gateway?.telemetry, ...overrides.telemetry },
    });
    gateways.push(gw);
    return gw;
  };
  const h: ObsHarness = {
    dir,
    keyring,
    cp,
    gateway: await start(),
    primary,
    backup,
    anthropic,
    admin,
    slugs,
    configId: configRow.id,
    gatewayLogLines,
    gatewayLogStore,
    openai: (headers = {}) =>
      new OpenAI({ baseURL: `${h.gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'x-portkey-api-key': cp.adminApiKey, ...headers } }),
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('x-portkey-api-key')) headers.set('x-portkey-api-key', cp.adminApiKey);
      let body = init.body;
      if (init.json !== undefined) {
        body = JSON.stringify(init.json);
        headers.set('content-type', 'application/json');
      }
      return fetch(`${h.cp.url}${path}`, { ...init, headers, body });
    },
    startGateway: start,
    async stopControlPlane() {
      await h.cp.close();
    },
    async restartControlPlane(overrides = {}) {
      cp = await startControlPlane({ ...cpOptions(), ...overrides });
      h.cp = cp;
    },
    async close() {
      await Promise.all(gateways.map((g) => g.close()));
      await h.cp.close().catch(() => undefined);
      await Promise.all([primary.close(), backup.close(), anthropic.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}
