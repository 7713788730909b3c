import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../core/config-schema.js';
import type { Logger } from '../../core/logger.js';
import type { SyncApiKey } from '../../core/sync-contract.js';
import type { LeafPlan } from '../pipeline/plan.js';
import type { UpstreamResult } from '../pipeline/upstream.js';
import type { Endpoint } from '../providers/index.js';
import type { GatewayState } from '../sync/gateway-state.js';
import type { BudgetClaims } from './budget-claims.js';
import type { BudgetStore } from './budget-store.js';
import type { UsageLimits } from './budgets.js';
import type { RateLimiter } from './rate-limiter.js';
import type { ReconciledUsage } from './reconciled-usage.js';

/** The limits an entity carries: Portkey's `rate_limits` array and `usage_limits` object. */
export interface EntityLimits {
  rate_limits?: unknown;
  usage_limits?: unknown;
}

/**
 * Where limits come from. The default reads `rate_limits` / `usage_limits` from the synced API key,
 * virtual key and workspace entries (once the sync contract carries them), then the static maps in
 * the options (by API key id, virtual key slug, workspace id).
 */
export interface LimitSource {
  apiKey(key: SyncApiKey, state: GatewayState): EntityLimits | undefined;
  virtualKey(slug: string, state: GatewayState): EntityLimits | undefined;
  workspace(id: string, state: GatewayState): EntityLimits | undefined;
}

export interface BudgetEvent {
  kind: 'alert' | 'exhausted';
  scope: 'api_key' | 'virtual_key';
  id: string;
  type: UsageLimits['type'];
  period: string;
  used: number;
  limit: number;
  threshold?: number;
  at: string;
}

export interface UsageReportEntry {
  scope: 'api_key' | 'virtual_key';
  id: string;
  type: UsageLimits['type'];
  period: string;
  /** Added since the previous report (dollars or tokens). */
  delta: number;
  /** This gateway fleet's shared counter for the period. */
  total: number;
}

export interface LimitsOptions {
  /** Default: in-process (one task). Use `redisRateLimiter` to share limits across tasks. */
  limiter?: RateLimiter;
  /** Default: in-process. Use `redisBudgetStore` to share budgets across tasks. */
  budgets?: BudgetStore;
  source?: LimitSource;
  /** Static limits (tests, or operators without control-plane limits): by API key id, virtual key slug, workspace id. */
  apiKeys?: Record<string, EntityLimits>;
  virtualKeys?: Record<string, EntityLimits>;
  workspaces?: Record<string, EntityLimits>;
  /** Budget alerts and exhaustion events go here, and are POSTed to `alertWebhook` when set. */
  onBudgetEvent?: (event: BudgetEvent) => void;
  alertWebhook?: string;
  /** The control plane's per-period figures from the heartbeat (startGateway wires it): enforced as max(counter, figure). */
  reconciled?: ReconciledUsage;
  /** Events are claimed from the control plane before they fire, so they fire once fleet-wide (startGateway wires it). */
  claims?: BudgetClaims;
  now?: () => number;
  logger?: Logger;
}

export interface AdmitArgs {
  res: ServerResponse;
  state: GatewayState;
  apiKey: SyncApiKey;
  config: GatewayConfig;
  body: Record<string, unknown> | undefined;
  endpoint: Endpoint;
  headers: IncomingHttpHeaders;
}

export interface SettleArgs {
  /** The status the client saw. */
  status: number;
  provider?: string;
  model?: string;
  /** The leaf that answered (`config.targets[1]`): names the virtual key that was used. */
  leafPath?: string;
}

/** The pipeline's call of one target, which admission wraps. */
export type Send = (leaf: LeafPlan, ...rest: never[]) => Promise<UpstreamResult>;

export interface Admission {
  /** Wraps the pipeline's send: each leaf's virtual key limits and budget are checked before its call. */
  wrap<F extends Send>(send: F): F;
  /** After the answer: counts tokens (tokens-per-minute) and spend (budgets). Never rejects; callers need not wait. */
  settle(args: SettleArgs): Promise<void>;
}

export interface LimitsStats {
  admitted: number;
  limited: number;
  budget_exhausted: number;
  degraded: number;
}

export interface Limits {
  /**
   * undefined, synchronously, when nothing limits this request (the fast path: no promise, no
   * await for the caller). Otherwise a promise of the admission; it rejects with 429 / 412 / 503.
   */
  admit(args: AdmitArgs): Promise<Admission | undefined> | undefined;
  /** Usage added since the last call, per entity and period: for the heartbeat / ingest report. */
  usageReport(): UsageReportEntry[];
  /** The last budget events (alerts, exhaustion), newest last. */
  events(): BudgetEvent[];
  stats(): LimitsStats;
  close(): Promise<void>;
}
