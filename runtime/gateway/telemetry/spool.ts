import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/logger.js';

/**
 * Batches items in memory and ships them; what cannot be shipped goes to a bounded on-disk spool
 * and is retried with exponential backoff until it is. Delivery is at least once: the receiver
 * must be idempotent per item (metric ids, log keys).
 *
 * - A batch leaves memory every `flushIntervalMs` or at `batchSize` items.
 * - When a send fails, or while older spooled batches still wait, the batch is written to the
 *   spool (one file per batch, written to a temp name then renamed, so a crash never leaves half a file).
 * - Spooled files are sent oldest first; each is deleted only after the receiver acknowledged it.
 *   A restart finds them on disk and sends them.
 * - The spool is bounded by bytes (shared across shippers through `SpoolBudget`). A batch that
 *   does not fit is dropped and counted: that count is exposed, never hidden.
 */
export interface SpoolBudget {
  maxBytes: number;
  usedBytes: number;
}

export interface ShipperOptions<T> {
  name: string;
  send(items: T[]): Promise<void>;
  /** How many records an item stands for (a packed batch is many): what the counters count. @default 1 */
  weight?(item: T): number;
  /** Called before each flush: hands over what the caller still holds (an open packed batch), if anything. */
  seal?(): T | undefined;
  /** No directory: failed batches are kept in memory (bounded by the same budget) and lost on restart. */
  spoolDir?: string;
  budget: SpoolBudget;
  batchSize: number;
  flushIntervalMs: number;
  /** In-memory items waiting for the next flush before new ones are spooled straight away. */
  maxQueued?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  logger: Logger;
}

export interface ShipperStats {
  queued: number;
  spooledBatches: number;
  spooledItems: number;
  sentItems: number;
  sentBatches: number;
  droppedItems: number;
  failedSends: number;
  lastError?: string;
  lastSuccessAt?: string;
}

interface SpooledBatch {
  file?: string;
  items?: unknown[];
  bytes: number;
  count: number;
}

const SUFFIX = '.batch.json';

export class Shipper<T> {
  private queue: T[] = [];
  private spooled: SpooledBatch[] = [];
  private timer: NodeJS.Timeout;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private draining: Promise<void> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private seq = 0;
  private closed = false;
  private fullFlushQueued = false;
  private readonly prefix = `${Date.now().toString().padStart(15, '0')}-${randomBytes(3).toString('hex')}`;
  readonly stats: ShipperStats = { queued: 0, spooledBatches: 0, spooledItems: 0, sentItems: 0, sentBatches: 0, droppedItems: 0, failedSends: 0 };
  readonly ready: Promise<void>;

  constructor(private opts: ShipperOptions<T>) {
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs);
    this.timer.unref();
    this.ready = this.recover();
  }

  /** Synchronous and cheap: the request path only pushes. */
  add(item: T): void {
    if (this.closed) return;
    this.queue.push(item);
    this.stats.queued += this.weigh([item]);
    // One full-batch flush in flight at a time: calling flush() on every add past batchSize chained
    // a flush per record, and each took the few records queued by then (small batches, more posts).
    if (this.queue.length >= this.opts.batchSize && !this.fullFlushQueued) {
      this.fullFlushQueued = true;
      void this.flush(true).finally(() => {
        this.fullFlushQueued = false;
      });
    }
  }

  /**
   * Takes what is queued and ships it (or spools it). Serialised: one flush at a time. `fullOnly`
   * (the batch-size trigger) leaves a partial batch for the timer, so batches stay full under load.
   */
  flush(fullOnly = false): Promise<void> {
    if (!fullOnly) {
      const sealed = this.opts.seal?.();
      if (sealed !== undefined) this.add(sealed);
    }
    this.flushing = this.flushing.then(async () => {
      while (this.queue.length && (!fullOnly || this.queue.length >= this.opts.batchSize)) {
        const batch = this.queue.splice(0, this.opts.batchSize);
        this.stats.queued -= this.weigh(batch);
        await this.ship(batch);
      }
    }).catch((err: Error) => this.opts.logger.warn('telemetry flush failed', { shipper: this.opts.name, reason: err.message }));
    return this.flushing;
  }

  private async ship(batch: T[]): Promise<void> {
    await this.ready;
    // Older batches first: while the spool holds any, new ones queue behind them on disk.
    if (!this.spooled.length) {
      try {
        await this.opts.send(batch);
        this.sent(this.weigh(batch));
        return;
      } catch (err) {
        this.failed(err);
      }
    }
    await this.spool(batch);
    this.scheduleDrain();
  }

  private weigh(items: T[]): number {
    const weight = this.opts.weight;
    if (!weight) return items.length;
    let n = 0;
    for (const item of items) n += weight(item);
    return n;
  }

  private sent(count: number): void {
    this.stats.sentItems += count;
    this.stats.sentBatches++;
    this.stats.lastSuccessAt = new Date().toISOString();
    this.attempt = 0;
  }

  private failed(err: unknown): void {
    this.stats.failedSends++;
    this.stats.lastError = (err as Error)?.message ?? String(err);
    if (this.stats.failedSends === 1 || this.stats.failedSends % 100 === 0) {
      this.opts.logger.warn('telemetry delivery failed; spooling', { shipper: this.opts.name, reason: this.stats.lastError, failures: this.stats.failedSends });
    }
  }

  private async spool(batch: T[]): Promise<void> {
    const text = JSON.stringify(batch);
    const bytes = Buffer.byteLength(text);
    const budget = this.opts.budget;
    if (budget.usedBytes + bytes > budget.maxBytes) {
      const count = this.weigh(batch);
      this.stats.droppedItems += count;
      this.opts.logger.warn('telemetry spool full; dropping a batch', { shipper: this.opts.name, items: count, dropped: this.stats.droppedItems });
      return;
    }
    budget.usedBytes += bytes;
    const entry: SpooledBatch = { bytes, count: this.weigh(batch) };
    if (this.opts.spoolDir) {
      const name = `${this.prefix}-${String(this.seq++).padStart(9, '0')}${SUFFIX}`;
      const file = join(this.opts.spoolDir, name);
      try {
        await writeFile(`${file}.tmp`, text, { mode: 0o600 });
        await rename(`${file}.tmp`, file);
        entry.file = file;
      } catch (err) {
        // The disk failed too: keep it in memory rather than lose it.
        this.opts.logger.warn('telemetry spool write failed; keeping the batch in memory', { shipper: this.opts.name, reason: (err as Error).message });
        entry.items = batch;
      }
    } else {
      entry.items = batch;
    }
    this.spooled.push(entry);
    this.updateSpoolStats();
  }

  private updateSpoolStats(): void {
    this.stats.spooledBatches = this.spooled.length;
    this.stats.spooledItems = this.spooled.reduce((n, b) => n + b.count, 0);
  }

  /** Files left by an earlier run (or another gateway process using this directory): send them first. */
  private async recover(): Promise<void> {
    if (!this.opts.spoolDir) return;
    let names: string[];
    try {
      await mkdir(this.opts.spoolDir, { recursive: true, mode: 0o700 });
      names = (await readdir(this.opts.spoolDir)).filter((n) => n.endsWith(SUFFIX)).sort();
    } catch (err) {
      // Serving must not depend on the spool: an unusable directory (read-only file system, wrong
      // owner) degrades to the in-memory spool, and the operator is told what to fix.
      this.opts.logger.error('telemetry spool directory is not usable; undeliverable batches are kept in memory and lost on restart. Make it writable by the gateway user or point TOLLGATE_SPOOL_DIR elsewhere', {
        shipper: this.opts.name,
        spoolDir: this.opts.spoolDir,
        reason: (err as Error).message,
      });
      this.opts = { ...this.opts, spoolDir: undefined };
      return;
    }
    for (const name of names) {
      const file = join(this.opts.spoolDir, name);
      try {
        const { size } = await stat(file);
        const items = JSON.parse(await readFile(file, 'utf8')) as unknown[];
        this.opts.budget.usedBytes += size;
        this.spooled.push({ file, bytes: size, count: Array.isArray(items) ? this.weigh(items as T[]) : 0 });
      } catch {
        // A file that is not a batch (or was damaged) is set aside, not retried forever.
        await rename(file, `${file}.bad`).catch(() => undefined);
      }
    }
    this.updateSpoolStats();
    if (this.spooled.length) {
      this.opts.logger.info('telemetry spool recovered', { shipper: this.opts.name, batches: this.spooled.length, items: this.stats.spooledItems });
      this.scheduleDrain(0);
    }
  }

  private scheduleDrain(delayMs?: number): void {
    if (this.retryTimer || this.draining || this.closed) return;
    const base = this.opts.backoffBaseMs ?? 1000;
    const max = this.opts.backoffMaxMs ?? 60_000;
    const wait = delayMs ?? Math.min(max, base * 2 ** Math.min(this.attempt, 16)) * (0.75 + Math.random() / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.drain();
    }, wait);
    this.retryTimer.unref();
  }

  /** Sends spooled batches oldest first until one fails (then backs off) or none are left. */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      try {
        await this.ready;
        while (this.spooled.length) {
          const head = this.spooled[0];
          let items: T[];
          try {
            items = (head.items ?? JSON.parse(await readFile(head.file!, 'utf8'))) as T[];
          } catch {
            this.spooled.shift();
            this.opts.budget.usedBytes -= head.bytes;
            if (head.file) await rename(head.file, `${head.file}.bad`).catch(() => undefined);
            continue;
          }
          try {
            await this.opts.send(items);
          } catch (err) {
            this.failed(err);
            this.attempt++;
            return;
          }
          this.sent(this.weigh(items));
          this.spooled.shift();
          this.opts.budget.usedBytes -= head.bytes;
          if (head.file) await unlink(head.file).catch(() => undefined);
          this.updateSpoolStats();
        }
      } finally {
        this.draining = undefined;
        this.updateSpoolStats();
        if (this.spooled.length) this.scheduleDrain();
      }
    })();
    return this.draining;
  }

  /**
   * Stops the timers and ships what is queued once; what does not go out is spooled (on disk it
   * survives the restart). Spooled batches are not retried here: shutdown must not hang on a dead receiver.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.draining;
  }
}
