import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { mergePrometheus } from './prometheus-merge.js';

/**
 * `--workers <n|auto>` / TOLLGATE_GATEWAY_WORKERS: one gateway process per core behind one port
 * (node:cluster). Each worker is a whole gateway, exactly like another task of the same service: it
 * syncs on its own, keeps its own circuit breakers and telemetry spool, and shares rate limits,
 * budgets and the response cache through Redis, which is why more than one worker needs
 * TOLLGATE_CACHE=redis. The primary only forks, restarts crashed workers, drains them on SIGTERM
 * and answers /metrics for all of them. Decisions: docs/design-changes.md ("Gateway workers").
 */

const MAX_WORKERS = 64;

export function parseWorkers(raw: string | number | undefined): number {
  if (raw === undefined || raw === '') return 1;
  const text = String(raw).trim().toLowerCase();
  if (text === 'auto') return Math.min(MAX_WORKERS, availableParallelism());
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new Error(`workers must be "auto" or an integer from 1 to ${MAX_WORKERS}, got "${raw}"`);
  return n;
}

/** With the in-memory cache, each worker would count its own rate limits and budgets: N workers would let N times a limit through. */
export function assertWorkersAllowed(workers: number, cacheKind: string | undefined): void {
  if (workers > 1 && (cacheKind?.trim() || 'memory') !== 'redis') {
    throw new Error(`${workers} workers need the shared Redis cache (--cache redis / TOLLGATE_CACHE=redis): with the in-memory cache each worker would enforce rate limits and budgets on its own, letting ${workers}x a limit through`);
  }
}

type Message =
  | { tollgate: 'metrics-request'; id: number }
  | { tollgate: 'metrics-collect'; id: number }
  | { tollgate: 'metrics-reply'; id: number; text: string }
  | { tollgate: 'metrics-response'; id: number; text: string };

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && typeof (m as { tollgate?: unknown }).tollgate === 'string';

/** This process's place in a cluster, when it is a worker (TOLLGATE_WORKER_INDEX is set by the primary). */
export interface WorkerContext {
  index: number;
  /** Worker 0 keeps the configured spool directory (what a single process used); others get a sibling each. */
  spoolDir(dir: string | undefined): string | undefined;
  /** /metrics for the whole cluster, through the primary. */
  metrics(): Promise<string>;
  /** Answers the primary's collection rounds with this worker's own metrics. */
  serveMetrics(own: () => string): void;
  /** Called when the primary is gone (the IPC channel closed): a worker must not outlive it. */
  onOrphaned(stop: () => void): void;
}

export function workerContext(): WorkerContext | undefined {
  if (!cluster.isWorker) return undefined;
  const index = Number(process.env.TOLLGATE_WORKER_INDEX ?? cluster.worker?.id ?? 0);
  let nextId = 0;
  const pending = new Map<number, (text: string) => void>();
  process.on('message', (m: unknown) => {
    if (!isMessage(m) || m.tollgate !== 'metrics-response') return;
    pending.get(m.id)?.(m.text);
    pending.delete(m.id);
  });
  return {
    index,
    spoolDir: (dir) => (dir && index > 0 ? join(dir, `worker-${index}`) : dir),
    metrics: () =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('the primary did not answer for /metrics'));
        }, 5_000);
        pending.set(id, (text) => {
          clearTimeout(timer);
          resolve(text);
        });
        process.send!({ tollgate: 'metrics-request', id } satisfies Message);
      }),
    serveMetrics(own) {
      process.on('message', (m: unknown) => {
        if (isMessage(m) && m.tollgate === 'metrics-collect') process.send!({ tollgate: 'metrics-reply', id: m.id, text: own() } satisfies Message);
      });
    },
    onOrphaned(stop) {
      process.once('disconnect', stop);
    },
  };
}

export interface RunningPrimary {
  url: string;
  /** Worker process ids by index (tests, logs). */
  pids(): number[];
  /** SIGTERM to every worker (each drains its in-flight requests), resolved once all have exited. */
  close(): Promise<void>;
}

/**
 * Forks `workers` copies of this same program (cluster re-runs process.argv with
 * TOLLGATE_WORKER_INDEX set) and resolves once every one is listening. A worker that dies before
 * it ever listened (bad settings, port in use) fails the start; one that crashes later is replaced
 * under the same index, with a growing pause if it keeps crashing soon after starting.
 */
export function startPrimary(opts: { workers: number; logger: Logger; env?: (index: number) => Record<string, string | undefined> }): Promise<RunningPrimary> {
  const { logger } = opts;
  const slots: ({ worker: Worker; startedAt: number; listening: boolean; crashes: number } | undefined)[] = new Array(opts.workers).fill(undefined);
  let stopping = false;
  let url = '';
  let collectId = 0;
  const collecting = new Map<number, { parts: { worker: number; text: string }[]; done: () => void; expected: number }>();

  const collectMetrics = async (): Promise<string> => {
    const id = ++collectId;
    const live = slots.flatMap((s, index) => (s?.listening && s.worker.isConnected() ? [{ index, worker: s.worker }] : []));
    const parts: { worker: number; text: string }[] = [];
    await new Promise<void>((resolve) => {
      // A worker stuck or exiting must not hang the scrape: answer with whoever replied in time.
      const timer = setTimeout(resolve, 2_000);
      collecting.set(id, {
        parts,
        expected: live.length,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      if (live.length === 0) resolve();
      for (const { worker } of live) worker.send({ tollgate: 'metrics-collect', id } satisfies Message);
    });
    collecting.delete(id);
    parts.sort((a, b) => a.worker - b.worker);
    return mergePrometheus(parts);
  };

  return new Promise((resolve, reject) => {
    let started = false;
    const fork = (index: number, crashes: number) => {
      const base = process.env.TOLLGATE_INSTANCE_ID?.trim();
      const worker = cluster.fork({
        ...opts.env?.(index),
        TOLLGATE_WORKER_INDEX: String(index),
        // Each worker reports to the control plane as its own instance, like a separate task would.
        ...(base ? { TOLLGATE_INSTANCE_ID: `${base}-w${index}` } : {}),
      });
      const slot = { worker, startedAt: Date.now(), listening: false, crashes };
      slots[index] = slot;
      worker.on('listening', (address) => {
        slot.listening = true;
        logger.info('gateway worker listening', { worker: index, pid: worker.process.pid });
        if (!url) {
          const host = !address.address || address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address.includes(':') ? `[${address.address}]` : address.address;
          url = `http://${host}:${address.port}`;
        }
        if (!started && slots.every((s) => s?.listening)) {
          started = true;
          resolve(primary);
        }
      });
      worker.on('message', (m: unknown) => {
        if (!isMessage(m)) return;
        if (m.tollgate === 'metrics-request') {
          void collectMetrics().then((text) => worker.isConnected() && worker.send({ tollgate: 'metrics-response', id: m.id, text } satisfies Message));
        } else if (m.tollgate === 'metrics-reply') {
          const round = collecting.get(m.id);
          if (!round) return;
          round.parts.push({ worker: index, text: m.text });
          if (round.parts.length >= round.expected) round.done();
        }
      });
      worker.on('exit', (code, signal) => {
        if (slots[index] === slot) slots[index] = undefined;
        if (stopping) return;
        if (!slot.listening && !started) {
          // Settings the worker rejected are the operator's to fix; restarting would loop forever.
          stopping = true;
          for (const s of slots) s?.worker.process.kill('SIGTERM');
          reject(Object.assign(new Error(`gateway worker ${index} exited (${signal ?? `code ${code}`}) before it listened`), { exitCode: code ?? 1 }));
          return;
        }
        // Crashing again within 10 s of its start doubles the pause before the next one (1 s to 30 s).
        const soon = Date.now() - slot.startedAt < 10_000;
        const nextCrashes = soon ? slot.crashes + 1 : 0;
        const delay = soon ? Math.min(30_000, 1_000 * 2 ** slot.crashes) : 0;
        logger.error('gateway worker exited; starting a new one', { worker: index, pid: worker.process.pid, code, signal, restartInMs: delay });
        setTimeout(() => !stopping && fork(index, nextCrashes), delay).unref();
      });
    };

    const primary: RunningPrimary = {
      get url() {
        return url;
      },
      pids: () => slots.map((s) => s?.worker.process.pid ?? 0),
      close: async () => {
        stopping = true;
        const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
        await Promise.all(
          live.map(
            (w) =>
              new Promise<void>((done) => {
                w.once('exit', () => done());
                w.process.kill('SIGTERM');
              }),
          ),
        );
      },
    };
    for (let i = 0; i < opts.workers; i++) fork(i, 0);
  });
}
