import { performance } from 'node:perf_hooks';

/**
 * Telemetry's own time, measured in place: `TOLLGATE_TELEMETRY_SELF_TIME=1` wraps the functions
 * telemetry runs (record, observe, the response tap's writeHead/write hooks, batch encoding, the
 * synchronous part of posting) with a clock, and `GET /v1/telemetry` reports the total per record.
 * It is a measuring tool for bench/telemetry-self-time.ts: the CPU share of telemetry is too small
 * to rank changes by whole-process CPU on a shared machine, where pairs of runs differ by ±4%.
 * Off by default; when off nothing is wrapped.
 */
export interface SelfTimeStats {
  /** Requests recorded while measuring. */
  records: number;
  /** ns per record in each measured part, and `total`: the sum of the top-level parts (a part named "a.b" is inside "a"). */
  ns_per_record: Record<string, number>;
}

export class SelfTime {
  private readonly ns = new Map<string, number>();
  /** Calls of the part named 'record': one a recorded request. */
  records = 0;

  /** Replaces `obj[name]` with a version that adds its time to `part`. */
  wrap<T extends object>(obj: T, name: keyof T & string, part: string): void {
    const fn = obj[name] as unknown as (...a: unknown[]) => unknown;
    const ns = this.ns;
    ns.set(part, ns.get(part) ?? 0);
    const counts = part === 'record' ? this : undefined;
    (obj as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      if (counts) counts.records++;
      const t = performance.now();
      try {
        return fn.apply(this, args);
      } finally {
        ns.set(part, ns.get(part)! + (performance.now() - t) * 1e6);
      }
    };
  }

  stats(): SelfTimeStats {
    const per: Record<string, number> = {};
    let total = 0;
    for (const [part, ns] of this.ns) {
      per[part] = Math.round(ns / Math.max(1, this.records));
      if (!part.includes(".")) total += ns; // "a.b" is part of "a"
    }
    per.total = Math.round(total / Math.max(1, this.records));
    return { records: this.records, ns_per_record: per };
  }
}
