import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { LogStore } from '../../core/ports.js';

/** What one request leaves behind. Built from known-safe fields only: no headers, no keys. */
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
  /** The request body (prompts stay in the customer's cloud); never carries credentials. */
  request?: unknown;
}

export interface RequestLogger {
  /** Synchronous and cheap: queues the entry; the write happens later, off the response path. */
  record(entry: RequestLogEntry): void;
  flush(): Promise<void>;
}

const MAX_QUEUE = 1000;
const MAX_CONCURRENT_WRITES = 8;

export function requestLogger(store: LogStore | undefined, logger: Logger): RequestLogger {
  if (!store) return { record() {}, flush: async () => {} };
  const queue: RequestLogEntry[] = [];
  const writing = new Set<Promise<void>>();
  let dropped = 0;

  const keyOf = (entry: RequestLogEntry, logId: string) => {
    const d = new Date(entry.startedAt);
    const pad = (n: number) => String(n).padStart(2, '0');
    const ws = entry.workspaceId ?? '_org';
    return `${entry.organisationId || '_unknown'}/${ws}/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}/${logId}.json`;
  };

  const pump = () => {
    while (queue.length && writing.size < MAX_CONCURRENT_WRITES) {
      const entry = queue.shift()!;
      const logId = randomUUID();
      const write = store
        .put(keyOf(entry, logId), JSON.stringify({ id: logId, ...entry, startedAt: new Date(entry.startedAt).toISOString() }))
        .catch((err: Error) => logger.warn('request log write failed', { reason: err.message }))
        .finally(() => {
          writing.delete(write);
          pump();
        });
      writing.add(write);
    }
  };

  return {
    record(entry) {
      if (queue.length >= MAX_QUEUE) {
        // A slow log store must never slow down or grow without bound the gateway: drop and say so.
        if (dropped++ % 1000 === 0) logger.warn('request log queue full; dropping entries', { dropped });
        return;
      }
      queue.push(entry);
      if (queue.length === 1) setImmediate(pump);
    },
    async flush() {
      pump();
      while (writing.size) await Promise.all([...writing]);
    },
  };
}
