import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../core/config-schema.js';
import type { Keyring } from '../../core/keyring.js';
import type { Logger } from '../../core/logger.js';
import type { LogStore } from '../../core/ports.js';
import type { GatewayState } from '../sync/gateway-state.js';
import type { SelfTimeStats } from './self-time.js';
import type { ShipperStats } from './spool.js';

/** What one request leaves behind. The pipeline fills what it knows; the rest is read from headers here. */
export interface RequestLogEntry {
  traceId: string;
  organisationId: string;
  workspaceId: string | null;
  apiKeyId: string;
  method: string;
  path: string;
  status: number;
  provider?: string;
  model?: string;
  stream: boolean;
  retries: number;
  lastUsedOptionIndex?: string;
  startedAt: number;
  durationMs: number;
  /** The parsed request body (masked before it is stored). */
  request?: unknown;
  /** The request body's size as received, in bytes. Unknown or over 64 KiB: the row is built at once rather than held for a burst (request-log.ts). */
  requestBytes?: number;
  /** The caller's headers: credentials are masked, x-portkey-metadata/trace/span and SDK headers are read. */
  headers?: IncomingHttpHeaders;
  /** The response, when `observe(res)` tapped it: status headers and usage are read from it. */
  res?: ServerResponse;
  /**
   * The x-portkey-cache-status the pipeline answered with. When it is set, `optionIndexSent` is the
   * x-portkey-last-used-option-index it answered with (undefined: none was sent); when it is not,
   * both are read from what the response sent.
   */
  cacheStatus?: string;
  optionIndexSent?: string;
  /** The route config that ran (saved, inline or default): names the virtual key and fallback positions. */
  config?: GatewayConfig;
  /** When the first upstream call started (ms epoch): splits upstream from gateway time. */
  upstreamStartedAt?: number;
  /** Extra secret values in play (e.g. the resolved provider key), scrubbed from the stored log. */
  secrets?: readonly string[];
  endpoint?: string;
  promptId?: string;
  promptVersion?: number;
  /** The endpoint chose the route itself (a prompt's virtual key or provider), not the routing headers. */
  routeFromEndpoint?: boolean;
}

export interface TelemetryOptions {
  /** @default true */
  enabled?: boolean;
  /**
   * Full request/response logs: `customer` writes them to the gateway's own log store (needs
   * `logStore`), `control-plane` encrypts each one with the keyring and sends it to the control
   * plane, `off` keeps none. Default: `customer` when a log store is given, else `off`.
   */
  logMode?: 'customer' | 'control-plane' | 'off';
  /** Directory for the durable spool; without one, undelivered batches wait in memory only. */
  spoolDir?: string;
  /** @default 100 MiB */
  spoolMaxBytes?: number;
  /** @default 3000 */
  flushIntervalMs?: number;
  /** @default 500 */
  batchSize?: number;
  /** Cap on the request and on the response body kept in one log; @default 1 MiB. */
  logBodyMaxBytes?: number;
  /** The URL the control plane uses to fetch customer-mode logs from this gateway; default: its own URL. */
  publicUrl?: string;
  /** @default 1000 */
  retryBaseMs?: number;
  /** @default 60000 */
  retryMaxMs?: number;
  /**
   * Measure telemetry's own time in place (self-time.ts), reported by stats(). A bench tool: it wraps telemetry's functions with a clock.
   * @default false
   */
  measureSelfTime?: boolean;
}

export interface TelemetryDeps {
  controlPlaneUrl: string;
  dataPlaneToken: string;
  keyring: Keyring;
  logStore?: LogStore;
  state(): GatewayState;
  logger: Logger;
  options?: TelemetryOptions;
}

export interface TelemetryStats {
  enabled: boolean;
  /** Requests that failed before routing: recorded as metrics, or only counted (no known API key). */
  rejected: { recorded: number; unauthenticated: number };
  log_mode: 'customer' | 'control-plane' | 'off';
  metrics: ShipperStats;
  logs: ShipperStats;
  spool: { dir: string | null; used_bytes: number; max_bytes: number };
  /** Everything a full spool dropped, metrics and logs. */
  dropped_total: number;
  /** Only when measureSelfTime is on. */
  self_time?: SelfTimeStats;
}

export interface RequestLogger {
  /** False when telemetry is off: the pipeline then skips observe() and record() altogether. */
  readonly enabled: boolean;
  /** Call before the response is written: taps its bytes for usage and, with logs on, the body. */
  observe(res: ServerResponse): void;
  /** Synchronous and cheap (no I/O): writes the metric row into the open batch; sealing, logs and shipping happen later. Call once the response is written. */
  record(entry: RequestLogEntry): void;
  /**
   * A request that failed before the pipeline recorded it (bad body, bad header, unknown config,
   * limits, an error thrown while routing): one record with what is known. A missing or unknown
   * API key has no tenant to charge it to: it is only counted (`tollgate_requests_rejected_total`),
   * so made-up keys cannot fill an organisation's analytics or the database.
   */
  rejected(req: IncomingMessage, res: ServerResponse, status: number): void;
  /** Ships everything queued now (tests, shutdown). */
  flush(): Promise<void>;
  /** `GET /v1/logs/:id` for the control plane (customer log mode). */
  serveLog(req: IncomingMessage, res: ServerResponse, logId: string): Promise<void>;
  stats(): TelemetryStats;
  setPublicUrl(url: string): void;
  close(): Promise<void>;
}
