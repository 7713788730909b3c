import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileLogStore } from '../../runtime/adapters/file-log-store.js';
import { localKeyring } from '../../runtime/adapters/local-keyring.js';
import { memoryCache } from '../../runtime/adapters/memory-cache.js';
import type { Keyring } from '../../runtime/core/keyring.js';
import { jsonLogger } from '../../runtime/core/logger.js';
import type { KeyValueCache } from '../../runtime/core/ports.js';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../runtime/gateway/server.js';
import { startMockAnthropic } from './mock-anthropic.js';
import type { MockServer } from './mock-base.js';
import { startMockOpenAI } from './mock-openai.js';
import { startFixtureSyncServer, type FixtureSpec, type FixtureSyncServer } from './fixture-sync-server.js';

/** Secrets the tests plant; none of them may ever show up in a log line or reach the wrong place. */
export const API_KEY = 'pk-tollgate-test-api-key-0123456789abcdef';
export const REVOKED_API_KEY = 'pk-tollgate-revoked-key-0123456789abcdef';
export const EXPIRED_API_KEY = 'pk-tollgate-expired-key-0123456789abcdef';
/** A key whose `defaults.config_id` routes calls that name no provider. */
export const DEFAULT_CONFIG_API_KEY = 'pk-tollgate-default-config-key-0123456789';
export const OPENAI_SECRET = 'sk-openai-primary-secret-0123456789abcdef';
export const BACKUP_SECRET = 'sk-openai-backup-secret-0123456789abcdef';
export const ANTHROPIC_SECRET = 'sk-ant-api03-secret-0123456789abcdef';

export interface Mocks {
  openai: MockServer;
  backup: MockServer;
  anthropic: MockServer;
}

/** The snapshot most tests want: one good key (+ revoked/expired ones) and a virtual key per mock. */
export function defaultSpec(mocks: Mocks): FixtureSpec {
  return {
    apiKeys: [
      { key: API_KEY },
      { key: REVOKED_API_KEY, status: 'revoked' },
      { key: EXPIRED_API_KEY, expiresAt: '2020-01-01T00:00:00.000Z' },
      { key: DEFAULT_CONFIG_API_KEY, defaultConfig: 'fallback-config' },
    ],
    virtualKeys: [
      { slug: 'openai-vk', provider: 'openai', secret: OPENAI_SECRET, options: { custom_host: `${mocks.openai.url}/v1` } },
      { slug: 'backup-vk', provider: 'openai', secret: BACKUP_SECRET, options: { custom_host: `${mocks.backup.url}/v1` } },
      { slug: 'anthropic-vk', provider: 'anthropic', secret: ANTHROPIC_SECRET, options: { custom_host: `${mocks.anthropic.url}/v1` } },
    ],
    configs: [
      {
        slug: 'fallback-config',
        config: { strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai-vk' }, { virtual_key: 'backup-vk' }] },
      },
    ],
  };
}

export interface GatewayHarness extends Mocks {
  gateway: RunningGateway;
  sync: FixtureSyncServer;
  keyring: Keyring;
  cache: KeyValueCache;
  logLines: string[];
  logDir: string;
  /** Every log file the LogStore received, concatenated. */
  readLogStore(): Promise<string>;
  startAnotherGateway(overrides?: Partial<GatewayOptions>): Promise<RunningGateway>;
  close(): Promise<void>;
}

export async function startGatewayHarness(
  opts: { spec?: (mocks: Mocks) => FixtureSpec; gateway?: Partial<GatewayOptions> } = {},
): Promise<GatewayHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-gw-'));
  const keyring = await localKeyring(join(dir, 'keyring.json'));
  const mocks: Mocks = {
    openai: await startMockOpenAI({ name: 'primary', apiKey: OPENAI_SECRET }),
    backup: await startMockOpenAI({ name: 'backup', apiKey: BACKUP_SECRET }),
    anthropic: await startMockAnthropic({ apiKey: ANTHROPIC_SECRET }),
  };
  const sync = await startFixtureSyncServer(keyring, (opts.spec ?? defaultSpec)(mocks));
  const cache = memoryCache();
  const logLines: string[] = [];
  const logDir = join(dir, 'logs');
  const started: RunningGateway[] = [];
  const start = async (overrides: Partial<GatewayOptions> = {}) => {
    const gw = await startGateway({
      port: 0,
      controlPlaneUrl: sync.url,
      dataPlaneToken: sync.token,
      keyring,
      cache,
      logStore: fileLogStore(logDir),
      syncIntervalMs: 60_000,
      devMode: true,
      logger: jsonLogger('gateway', (line) => logLines.push(line)),
      ...opts.gateway,
      ...overrides,
    });
    started.push(gw);
    return gw;
  };
  const gateway = await start();

  async function readTree(path: string): Promise<string> {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    const parts = await Promise.all(entries.map((e) => (e.isDirectory() ? readTree(join(path, e.name)) : readFile(join(path, e.name), 'utf8'))));
    return parts.join('\n');
  }

  return {
    ...mocks,
    gateway,
    sync,
    keyring,
    cache,
    logLines,
    logDir,
    readLogStore: () => readTree(logDir),
    startAnotherGateway: start,
    async close() {
      await Promise.all(started.map((g) => g.close()));
      await Promise.all([sync.close(), mocks.openai.close(), mocks.backup.close(), mocks.anthropic.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Headers for a plain fetch through the gateway. */
export function gatewayHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', 'x-portkey-api-key': API_KEY, ...extra };
}

export const CHAT_BODY = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }] };
