import { z } from 'zod';
import type { GatewayConfig } from './config-schema.js';
import { syncGuardrailEntry, syncPriceEntry, syncPromptEntry, syncPromptPartialEntry } from './prompt-contract.js';

/**
 * What the control plane sends the gateway at each heartbeat (`GET /v1/sync/snapshot`).
 * Auth: `Authorization: Bearer <data-plane token>`. The gateway sends `?since=<version>`
 * and gets 304 when its org has not changed. Secrets stay envelope-encrypted on the wire.
 *
 * Protocol 2 (this build) adds deltas (`kind: 'delta'`: only the entities changed since `since`,
 * with tombstones), an HMAC over every body (`x-tollgate-signature`, see sync-integrity.ts), the
 * long-poll push channel (`GET /v1/sync/wait?since=`) and the heartbeat report
 * (`x-tollgate-heartbeat`). Protocol 1 (full snapshots only) is still served to old gateways.
 * See docs/sync.md.
 */
export const SYNC_PROTOCOL_VERSION = 2;
/** The protocols this control plane can answer; a gateway naming none of them gets 409/426. */
export const SUPPORTED_SYNC_PROTOCOLS: readonly number[] = [1, 2];
/** Gateways older than this are refused with 426 (upgrade the gateway). */
export const MIN_GATEWAY_VERSION = '0.1.0';
export const SYNC_PATH = '/v1/sync/snapshot';
export const SYNC_WAIT_PATH = '/v1/sync/wait';
export const GATEWAY_VERSION_HEADER = 'x-tollgate-gateway-version';
export const SYNC_PROTOCOL_HEADER = 'x-tollgate-sync-protocol';
export const SYNC_SIGNATURE_HEADER = 'x-tollgate-signature';
export const HEARTBEAT_HEADER = 'x-tollgate-heartbeat';
/**
 * What a gateway's delta merge understands beyond protocol 2 (comma list). `keyed-pricing`: it merges
 * `pricing` entries by `provider/model` (they have no `id`); a gateway without it gets a full
 * snapshot when prices changed. `wait-delta`: the long-poll (`/v1/sync/wait`) may answer a change with
 * the delta itself (the same signed body a pull would get) instead of `{ version }`, saving the pull.
 */
export const SYNC_FEATURES_HEADER = 'x-tollgate-sync-features';
export const SYNC_FEATURES = ['keyed-pricing', 'wait-delta'] as const;
export const WAIT_DELTA_FEATURE = 'wait-delta';

/**
 * The key a delta upserts and deletes entries of a snapshot array by: `id`, except `pricing`
 * (one price per `provider/model`; provider ids never contain `/`).
 */
export function syncEntryKey(field: string, entry: Record<string, unknown>): string {
  return field === 'pricing' ? `${String(entry.provider)}/${String(entry.model)}` : (entry.id as string);
}

/** Portkey's `rate_limits` array and `usage_limits` object, enforced by the gateway (optional: older control planes omit them). */
const limitFields = {
  rate_limits: z.array(z.unknown()).nullable().optional(),
  usage_limits: z.record(z.string(), z.unknown()).nullable().optional(),
};

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
  ...limitFields,
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
  ...limitFields,
});

/**
 * A full snapshot. Entity arrays are keyed by `id`; new optional arrays may be added (additively):
 * deltas carry upserts/deletes for any of these arrays by the same names.
 */
export const syncSnapshotSchema = z.object({
  protocol: z.union([z.literal(1), z.literal(2)]),
  /** Protocol 2 only; absent in protocol 1. */
  kind: z.literal('full').optional(),
  organisation_id: z.string(),
  version: z.number().int().nonnegative(),
  generated_at: z.string(),
  workspaces: z.array(z.object({ id: z.string(), slug: z.string(), rate_limits: limitFields.rate_limits })),
  api_keys: z.array(apiKeyEntry),
  configs: z.array(configEntry),
  virtual_keys: z.array(virtualKeyEntry),
  /** Optional (older control planes omit them): prompts with their labelled versions, published partials. */
  prompts: z.array(syncPromptEntry).optional(),
  prompt_partials: z.array(syncPromptPartialEntry).optional(),
  guardrails: z.array(syncGuardrailEntry).optional(),
  pricing: z.array(syncPriceEntry).optional(),
});

export type SyncSnapshot = z.infer<typeof syncSnapshotSchema>;
export type SyncApiKey = z.infer<typeof apiKeyEntry>;
export type SyncConfig = z.infer<typeof configEntry> & { config: GatewayConfig & Record<string, unknown> };
export type SyncVirtualKey = z.infer<typeof virtualKeyEntry>;

/**
 * Protocol 2 delta: what changed after `base_version`, up to `version`. `upserts.<array>` holds whole
 * entries (validated against the same element schema as the full snapshot's array of that name);
 * `deletes.<array>` holds the ids that are gone (deleted, or no longer served, e.g. archived configs);
 * for `pricing` the key is `provider/model` instead of `id` (see `syncEntryKey`).
 * A gateway applies it only on top of exactly `base_version`, else it asks for a full snapshot.
 */
export const syncDeltaSchema = z.object({
  protocol: z.literal(2),
  kind: z.literal('delta'),
  organisation_id: z.string(),
  base_version: z.number().int().nonnegative(),
  version: z.number().int().nonnegative(),
  generated_at: z.string(),
  upserts: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
  deletes: z.record(z.string(), z.array(z.string())),
});
export type SyncDelta = z.infer<typeof syncDeltaSchema>;

/** The long-poll answer: 200 `{ version }` as soon as the org's revision differs from `since`, 304 at the timeout. */
export const syncWaitSchema = z.object({ version: z.number().int().nonnegative() });

/** What a gateway reports at each heartbeat (header `x-tollgate-heartbeat`, compact JSON). */
export const heartbeatSchema = z.object({
  instance_id: z.string().min(1).max(128),
  gateway_version: z.string().max(64).optional(),
  synced_version: z.number().int().nonnegative(),
  uptime_seconds: z.number().nonnegative(),
  cache: z.enum(['ok', 'down', 'none']),
  /** Seconds since the gateway last confirmed its state with the control plane (null: never). */
  sync_lag_seconds: z.number().nonnegative().nullable(),
  push: z.boolean().optional(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;
