import { z } from 'zod';
import type { GatewayConfig } from './config-schema.js';

/**
 * What the control plane sends the gateway at each heartbeat (`GET /v1/sync/snapshot`).
 * Auth: `Authorization: Bearer <data-plane token>`. The gateway sends `?since=<version>`
 * and gets 304 when its org has not changed. Secrets stay envelope-encrypted on the wire.
 */
export const SYNC_PROTOCOL_VERSION = 1;
export const SYNC_PATH = '/v1/sync/snapshot';
export const GATEWAY_VERSION_HEADER = 'x-tollgate-gateway-version';
export const SYNC_PROTOCOL_HEADER = 'x-tollgate-sync-protocol';

const apiKeyEntry = z.object({
  id: z.string(),
  key_hash: z.string(),
  workspace_id: z.string().nullable(),
  type: z.enum(['user', 'service']),
  scopes: z.array(z.string()),
  status: z.enum(['active', 'revoked', 'exhausted']),
  expires_at: z.string().nullable(),
  defaults: z
    .object({ config_id: z.string().optional(), metadata: z.record(z.string(), z.string()).optional() })
    .nullable(),
});

const configEntry = z.object({
  id: z.string(),
  slug: z.string(),
  workspace_id: z.string(),
  version: z.number().int(),
  config: z.record(z.string(), z.unknown()),
});

const virtualKeyEntry = z.object({
  id: z.string(),
  slug: z.string(),
  workspace_id: z.string(),
  provider: z.string(),
  /** Encryption SDK message (base64) of the provider secret; context from `virtualKeyContext`. */
  encrypted_key: z.string(),
  status: z.enum(['active', 'exhausted', 'revoked']),
  /** Non-secret provider options: custom_host, azure_*, aws_region, ... */
  options: z.record(z.string(), z.unknown()),
});

export const syncSnapshotSchema = z.object({
  protocol: z.literal(SYNC_PROTOCOL_VERSION),
  organisation_id: z.string(),
  version: z.number().int().nonnegative(),
  generated_at: z.string(),
  workspaces: z.array(z.object({ id: z.string(), slug: z.string() })),
  api_keys: z.array(apiKeyEntry),
  configs: z.array(configEntry),
  virtual_keys: z.array(virtualKeyEntry),
});

export type SyncSnapshot = z.infer<typeof syncSnapshotSchema>;
export type SyncApiKey = z.infer<typeof apiKeyEntry>;
export type SyncConfig = z.infer<typeof configEntry> & { config: GatewayConfig & Record<string, unknown> };
export type SyncVirtualKey = z.infer<typeof virtualKeyEntry>;
