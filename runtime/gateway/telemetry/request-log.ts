import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { INGEST_LOGS_PATH, INGEST_METRICS_PATH, logContext, type EncryptedLog, type MetricRecord } from '../../core/metrics.js';
import { hashSecret } from '../../core/secrets.js';
import { TOLLGATE_VERSION } from '../../core/version.js';
import { ControlPlanePoster, runLimited } from './deliver.js';
import { buildFullLog, logFetchKey } from './full-log.js';
import { header, resHeaderOf, RowBuilder } from './metric-record.js';
import { MetricRow, rowToRecord } from './metric-row.js';
import { Tap, TappedResponse, tapResponse, type ResponseTap } from './response-tap.js';
import { SelfTime } from './self-time.js';
import { Shipper, type SpoolBudget } from './spool.js';
import { liveTelemetry } from './stats.js';
import type { RequestLogEntry, RequestLogger, TelemetryDeps } from './types.js';
import { MetricColumnsBatch, type PackedBatch } from './wire.js';

export { logFetchToken } from './full-log.js';
export { telemetryPrometheus, telemetryStats } from './stats.js';
export type { RequestLogEntry, RequestLogger, TelemetryDeps, TelemetryOptions, TelemetryStats } from './types.js';

/**
 * Telemetry of one gateway: `record` keeps the request, and every ROW_BURST-th call writes the
 * kept requests' rows into the open columnar batch (no I/O); sealing full batches and building full
 * logs happen on a later turn, and `Shipper`s ship them (memory, then a bounded spool).
 * Record fields: metric-record.ts; logs: full-log.ts; wire format: wire.ts; delivery: deliver.ts.
 */

/**
 * Metric rows are built this many at a time. Measured in place (TOLLGATE_TELEMETRY_SELF_TIME,
 * bench/telemetry-self-time.ts), building each row as its request was recorded cost 6–8 µs a
 * record: that code runs once between long stretches of the pipeline's own and starts cold every
 * time. Built 64 at a time it cost ~4.4 µs, although each held entry is colder by then.
 */
const ROW_BURST = 64;
/**
 * A held entry keeps its parsed request body (for token estimates) and its tap keeps a one-write
 * answer whole: requests or answers larger than this are built at once, so a burst holds a few MB
 * at most.
 */
const MAX_HELD_BYTES = 64 * 1024;

interface CustomerLog {
  key: string;
  body: string;
}

export function createTelemetry(deps: TelemetryDeps): RequestLogger {
  const opts = deps.options ?? {};
  const enabled = opts.enabled !== false;
  const logMode = !enabled ? 'off' : (opts.logMode ?? (deps.logStore ? 'customer' : 'off'));
  if (logMode === 'customer' && !deps.logStore) throw new Error('telemetry logMode "customer" needs a logStore');
  const captureBytes = logMode === 'off' ? 0 : (opts.logBodyMaxBytes ?? 1024 * 1024);
  const budget: SpoolBudget = { maxBytes: opts.spoolMaxBytes ?? 100 * 1024 * 1024, usedBytes: 0 };
  const poster = new ControlPlanePoster(deps.controlPlaneUrl.replace(/\/+$/, ''), deps.dataPlaneToken);
  let publicUrl = opts.publicUrl;
  const fetchKey = logFetchKey(deps.dataPlaneToken);
  const common = {
    budget,
    batchSize: opts.batchSize ?? 500,
    flushIntervalMs: opts.flushIntervalMs ?? 3000,
    backoffBaseMs: opts.retryBaseMs ?? 1000,
    backoffMaxMs: opts.retryMaxMs ?? 60_000,
    logger: deps.logger,
  };
  const spoolDir = (sub: string) => (opts.spoolDir ? `${opts.spoolDir}/${sub}` : undefined);

  // Records go into a columnar batch as they are built; a full batch (or the timer) seals it into
  // its format 2 body, which the shipper sends, or spools if it cannot. Spool files written before
  // format 2 hold format 1 rows: those are still read and sent as format 1.
  const batchSize = common.batchSize;
  let open = new MetricColumnsBatch(batchSize);
  const head = () => ({ gateway_url: publicUrl, gateway_version: TOLLGATE_VERSION });
  // Batches that reached batchSize on the request path, waiting (in order) to be encoded a turn later.
  let full: MetricColumnsBatch[] = [];
  const encodeFull = () => {
    const batches = full;
    full = [];
    for (const b of batches) metrics.add({ body: b.encode(head()), count: b.count });
  };
  const seal = (): PackedBatch | undefined => {
    if (burstEntries.length) drainRows();
    if (full.length) encodeFull();
    if (!open.count) return undefined;
    const packed = { body: open.encode(head()), count: open.count };
    open = new MetricColumnsBatch(batchSize);
    return packed;
  };
  const metrics = new Shipper<PackedBatch | MetricRecord>({
    ...common,
    batchSize: 1,
    name: 'metrics',
    spoolDir: spoolDir('metrics'),
    weight: (item) => ('body' in item ? item.count : 1),
    seal,
    send: async (items) => {
      const rows = items.filter((item): item is MetricRecord => !('body' in item));
      if (rows.length) await poster.post(INGEST_METRICS_PATH, JSON.stringify({ ...head(), records: rows }));
      for (const item of items) if ('body' in item) await poster.post(INGEST_METRICS_PATH, item.body);
    },
  });
  const logs =
    logMode === 'customer'
      ? new Shipper<CustomerLog>({
          ...common,
          name: 'logs',
          batchSize: 50,
          flushIntervalMs: Math.min(common.flushIntervalMs, 1000),
          spoolDir: spoolDir('logs'),
          send: (items) => runLimited(items, 8, (item) => deps.logStore!.put(item.key, item.body)),
        })
      : new Shipper<EncryptedLog>({
          ...common,
          name: 'logs',
          batchSize: 50,
          spoolDir: logMode === 'control-plane' ? spoolDir('logs') : undefined,
          send: (items) => poster.post(INGEST_LOGS_PATH, JSON.stringify({ logs: items }), 30_000),
        });

  // Deferred work, side by side (no wrapper object per request): full logs of recorded requests
  // (their record already built), and whole records of rejected ones.
  let pending: RequestLogEntry[] = [];
  let pendingTaps: (ResponseTap | undefined)[] = [];
  let pendingRecords: (MetricRecord | undefined)[] = [];
  let scheduled = false;
  const builder = new RowBuilder(logMode, fetchKey);
  const row = new MetricRow();
  /** Responses the pipeline recorded: an error thrown after that (while replying) is not recorded again. Only for responses that are not TappedResponse. */
  const recorded = new WeakSet<ServerResponse>();
  const rejected = { recorded: 0, unauthenticated: 0 };
  const taps = new WeakMap<ServerResponse, ResponseTap>();
  const encrypting = new Set<Promise<void>>();


  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(process);
    }
  };

  /**
   * Writes a recorded request's row into the open batch (from drainRows). A batch that reaches
   * batchSize is set aside; encoding it and building full logs are left for a later turn. Returns
   * the record when a full log is to be written.
   */
  const addRow = (entry: RequestLogEntry, tap: ResponseTap | undefined, state = deps.state()): MetricRecord | undefined => {
    builder.fill(row, entry, tap, state);
    open.add(row);
    if (open.count >= batchSize) {
      full.push(open);
      open = new MetricColumnsBatch(batchSize);
      if (full.length === 1) setImmediate(encodeFull);
    }
    // Only requests whose full log is kept get a record object.
    return logMode === 'off' || !row.log_key ? undefined : rowToRecord(row);
  };

  // Recorded requests whose rows are not built yet: built ROW_BURST at a time (drainRows), the rest
  // by seal, flush and close (stats counts them as queued). With full logs on, an entry holds its
  // captured bodies (up to logBodyMaxBytes each): those rows are built right away instead, and so
  // are rows of requests or answers over MAX_HELD_BYTES (record).
  const burst = logMode === 'off' ? ROW_BURST : 1;
  const burstEntries: RequestLogEntry[] = [];
  const burstTaps: (ResponseTap | undefined)[] = [];
  const burstStates: ReturnType<TelemetryDeps['state']>[] = [];
  const drainRows = () => {
    const n = burstEntries.length;
    for (let i = 0; i < n; i++) {
      const entry = burstEntries[i];
      const tap = burstTaps[i];
      let record: MetricRecord | undefined;
      try {
        record = addRow(entry, tap, burstStates[i]);
      } catch (err) {
        deps.logger.warn('telemetry record failed', { reason: (err as Error).message });
        continue;
      }
      if (record) {
        pending.push(entry);
        pendingTaps.push(tap);
        pendingRecords.push(record);
        schedule();
      }
    }
    burstEntries.length = 0;
    burstTaps.length = 0;
    burstStates.length = 0;
  };

  const build = (entry: RequestLogEntry, tap: ResponseTap | undefined, built: MetricRecord | undefined) => {
    const record = built ?? addRow(entry, tap);
    const key = record?.log_key;
    if (!record || !key) return;
    const text = buildFullLog(entry, tap, record, (name) => resHeaderOf(tap, entry.res, name), captureBytes);
    if (logMode === 'customer') {
      (logs as Shipper<CustomerLog>).add({ key, body: text });
    } else {
      const id = record.id;
      const sealing = deps.keyring
        .encrypt(text, logContext(record.organisation_id, record.workspace_id, id))
        .then((ciphertext) =>
          (logs as Shipper<EncryptedLog>).add({ id, organisation_id: record.organisation_id, workspace_id: record.workspace_id, created_at: record.created_at, key, ciphertext }),
        )
        .catch((err: Error) => deps.logger.warn('log encryption failed; log dropped', { reason: err.message }))
        .finally(() => encrypting.delete(sealing));
      encrypting.add(sealing);
    }
  };

  const process = () => {
    scheduled = false;
    const batch = pending;
    const batchTaps = pendingTaps;
    const batchRecords = pendingRecords;
    pending = [];
    pendingTaps = [];
    pendingRecords = [];
    for (let i = 0; i < batch.length; i++) {
      try {
        build(batch[i], batchTaps[i], batchRecords[i]);
      } catch (err) {
        deps.logger.warn('telemetry record failed', { reason: (err as Error).message });
      }
    }
  };

  const flush = async () => {
    if (burstEntries.length) drainRows();
    if (pending.length) process();
    await Promise.all([...encrypting]);
    await Promise.all([metrics.flush(), logs.flush()]);
  };

  /** Marks the response as recorded (an error thrown while replying is not recorded again) and returns its tap. */
  const claimTap = (res: ServerResponse): ResponseTap | undefined => {
    if (res instanceof TappedResponse) {
      res.telemetryRecorded = true;
      return res.telemetryTap;
    }
    recorded.add(res);
    return taps.get(res);
  };

  const telemetry: RequestLogger = {
    enabled,
    observe(res) {
      if (!enabled) return;
      const tap = tapResponse(res, captureBytes);
      if (res instanceof TappedResponse) res.telemetryTap = tap;
      else taps.set(res, tap);
    },
    record(entry) {
      if (!enabled || !entry.organisationId) return;
      const tap = entry.res ? claimTap(entry.res) : undefined;
      burstEntries.push(entry);
      burstTaps.push(tap);
      burstStates.push(deps.state());
      // A request of unknown size counts as too large to hold.
      const small = (entry.requestBytes ?? Infinity) <= MAX_HELD_BYTES && (tap?.bytes ?? 0) <= MAX_HELD_BYTES;
      if (burstEntries.length >= burst || !small) drainRows();
    },
    rejected(req, res, status) {
      if (!enabled || (res instanceof TappedResponse ? res.telemetryRecorded : recorded.has(res))) return;
      const state = deps.state();
      const presented = header(req.headers, 'x-portkey-api-key');
      // A 401 means the key is missing, unknown, revoked or expired: nobody to charge it to.
      const key = status === 401 || !presented ? undefined : state.apiKeysByHash.get(hashSecret(presented));
      if (!key || !state.organisationId) {
        rejected.unauthenticated++;
        return;
      }
      rejected.recorded++;
      const trace = header(req.headers, 'x-portkey-trace-id') ?? res.getHeader('x-portkey-trace-id');
      // Built a turn later, like before: the error response may not be written yet.
      pending.push({
        traceId: trace ? String(trace) : randomUUID(),
        organisationId: state.organisationId,
        workspaceId: key.workspace_id,
        apiKeyId: key.id,
        method: req.method ?? 'POST',
        path: req.url ?? '',
        status,
        provider: header(req.headers, 'x-portkey-provider'),
        stream: false,
        retries: 0,
        // Failed before any upstream call: the time spent is the gateway's own, a few ms at most.
        startedAt: Date.now(),
        durationMs: 0,
        headers: req.headers,
        res,
      });
      pendingTaps.push(claimTap(res));
      pendingRecords.push(undefined);
      schedule();
    },
    flush,
    async serveLog(req, res, logId) {
      const send = (status: number, body: unknown) => {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(text);
      };
      const url = new URL(req.url ?? '/', 'http://gateway');
      const key = url.searchParams.get('key') ?? '';
      const presented = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
      const expected = createHmac('sha256', fetchKey).update(key).digest('base64url');
      const ok = key.endsWith(`/${logId}.json`) && presented.length === expected.length && timingSafeEqual(Buffer.from(presented), Buffer.from(expected));
      if (!ok) return send(401, { status: 'failure', message: 'this endpoint answers only the control plane' });
      if (logMode !== 'customer' || !deps.logStore) return send(404, { status: 'failure', message: 'this gateway keeps no logs' });
      const body = await deps.logStore.get(key).catch(() => undefined);
      if (body === undefined) return send(404, { status: 'failure', message: `log ${logId} not found` });
      send(200, body);
    },
    stats() {
      return {
        enabled,
        rejected: { ...rejected },
        log_mode: logMode,
        // Queued log work whose row is already in `open` is not counted twice.
        metrics: { ...metrics.stats, queued: metrics.stats.queued + burstEntries.length + open.count + full.reduce((n, b) => n + b.count, 0) + pendingRecords.filter((r) => !r).length },
        logs: { ...logs.stats },
        spool: { dir: opts.spoolDir ?? null, used_bytes: budget.usedBytes, max_bytes: budget.maxBytes },
        dropped_total: metrics.stats.droppedItems + logs.stats.droppedItems,
        ...(selfTime ? { self_time: selfTime.stats() } : {}),
      };
    },
    setPublicUrl(url) {
      publicUrl ??= url;
    },
    async close() {
      liveTelemetry.delete(telemetry);
      if (burstEntries.length) drainRows();
      if (pending.length) process();
      await Promise.all([...encrypting]);
      await Promise.all([metrics.close(), logs.close()]);
      await poster.close();
    },
  };
  const selfTime = enabled && opts.measureSelfTime ? measureSelfTime(telemetry) : undefined;
  liveTelemetry.add(telemetry);
  return telemetry;
}

let prototypesTimed: SelfTime | undefined;

/** Wraps what telemetry runs with a clock (self-time.ts); shared prototypes are wrapped once per process. */
function measureSelfTime(telemetry: RequestLogger): SelfTime {
  const selfTime = prototypesTimed ?? new SelfTime();
  if (!prototypesTimed) {
    prototypesTimed = selfTime;
    selfTime.wrap(Tap.prototype, 'sawHead', 'tap');
    selfTime.wrap(Tap.prototype, 'see', 'tap');
    selfTime.wrap(MetricColumnsBatch.prototype, 'encode', 'encode');
    selfTime.wrap(ControlPlanePoster.prototype, 'post', 'post');
  }
  selfTime.wrap(telemetry, 'observe', 'observe');
  selfTime.wrap(telemetry, 'record', 'record');
  return selfTime;
}
