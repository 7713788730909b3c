import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { virtualKeyContext, type Keyring } from '../../runtime/core/keyring.js';
import { hashSecret } from '../../runtime/core/secrets.js';
import { SYNC_PATH, SYNC_PROTOCOL_VERSION, SYNC_SIGNATURE_HEADER, type SyncSnapshot } from '../../runtime/core/sync-contract.js';
import { deriveSyncKey, signBody } from '../../runtime/core/sync-integrity.js';

/**
 * A stand-in control plane that serves one SyncSnapshot, so gateway tests run without the real
 * control plane. Virtual keys are encrypted with a real keyring, exactly as the control plane does.
 */
export interface FixtureSpec {
  organisationId?: string;
  workspaceId?: string;
  apiKeys?: { key: string; workspaceId?: string | null; status?: 'active' | 'revoked' | 'exhausted'; expiresAt?: string | null; defaultConfig?: string }[];
  configs?: { slug: string; id?: string; workspaceId?: string; config: Record<string, unknown> }[];
  virtualKeys?: { slug: string; provider: string; secret: string; workspaceId?: string; options?: Record<string, unknown>; status?: 'active' | 'revoked' | 'exhausted'; encryptedKey?: string }[];
}

export interface FixtureSyncServer {
  url: string;
  token: string;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  snapshot(): SyncSnapshot;
  /** Replaces the served snapshot with a new version. */
  update(spec: FixtureSpec): Promise<void>;
  /** Serves a raw body instead (for unreadable-payload tests), signed unless `signature` says otherwise. */
  serveRaw(body: string, signature?: string | null): void;
  close(): Promise<void>;
}

export const FIXTURE_ORG = 'org_fixture';
export const FIXTURE_WORKSPACE = 'ws_fixture';

export async function buildSnapshot(spec: FixtureSpec, keyring: Keyring, version: number): Promise<SyncSnapshot> {
  const org = spec.organisationId ?? FIXTURE_ORG;
  const ws = spec.workspaceId ?? FIXTURE_WORKSPACE;
  return {
    protocol: SYNC_PROTOCOL_VERSION,
    kind: 'full',
    organisation_id: org,
    version,
    generated_at: new Date().toISOString(),
    workspaces: [{ id: ws, slug: 'default' }],
    api_keys: (spec.apiKeys ?? []).map((k, i) => ({
      id: `key_${i}`,
      key_hash: hashSecret(k.key),
      workspace_id: k.workspaceId === undefined ? ws : k.workspaceId,
      type: 'service',
      scopes: ['completions.write'],
      status: k.status ?? 'active',
      expires_at: k.expiresAt ?? null,
      defaults: k.defaultConfig ? { config_id: k.defaultConfig } : null,
    })),
    configs: (spec.configs ?? []).map((c, i) => ({ id: c.id ?? `cfg_${i}`, slug: c.slug, workspace_id: c.workspaceId ?? ws, version: 1, config: c.config })),
    virtual_keys: await Promise.all(
      (spec.virtualKeys ?? []).map(async (vk, i) => {
        const workspace = vk.workspaceId ?? ws;
        return {
          id: `vk_${i}`,
          slug: vk.slug,
          workspace_id: workspace,
          provider: vk.provider,
          encrypted_key: vk.encryptedKey ?? (await keyring.encrypt(vk.secret, virtualKeyContext(org, workspace, vk.slug))),
          status: vk.status ?? 'active',
          options: vk.options ?? {},
        };
      }),
    ),
  };
}

export async function startFixtureSyncServer(keyring: Keyring, spec: FixtureSpec, token = 'dp_fixture_token'): Promise<FixtureSyncServer> {
  let version = 1;
  let snapshot = await buildSnapshot(spec, keyring, version);
  let raw: string | undefined;
  let rawSignature: string | null | undefined;
  // Signed like the real control plane: HMAC under a key derived from the token's hash.
  const key = deriveSyncKey(hashSecret(token), 'payload');
  const send = (res: import('node:http').ServerResponse, body: string, signature: string | null = signBody(key, body)) => {
    res.writeHead(200, { 'content-type': 'application/json', ...(signature === null ? {} : { [SYNC_SIGNATURE_HEADER]: signature }) });
    res.end(body);
  };
  const requests: FixtureSyncServer['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://fixture');
    if (req.method !== 'GET' || url.pathname !== SYNC_PATH) return void res.writeHead(404).end();
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ status: 'failure', message: 'invalid data-plane token' }));
    }
    if (raw !== undefined) return send(res, raw, rawSignature === undefined ? signBody(key, raw) : rawSignature);
    if (Number(url.searchParams.get('since')) === snapshot.version) return void res.writeHead(304).end();
    send(res, JSON.stringify(snapshot));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    snapshot: () => snapshot,
    async update(next) {
      raw = undefined;
      snapshot = await buildSnapshot(next, keyring, ++version);
    },
    serveRaw(body, signature) {
      raw = body;
      rawSignature = signature;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
