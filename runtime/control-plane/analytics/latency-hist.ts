/**
 * Latency histograms kept in the hourly rollups, so p50/p90/p99 over months of traffic come from a
 * few thousand rollup rows instead of millions of raw rows. Buckets are log-spaced (each 20% wider
 * than the last), so an estimated percentile is within one bucket (≤ 20%, usually far less after
 * interpolation and clamping to the observed min/max) of the exact one.
 *
 * The bucket layout is part of the stored format (`request_metrics_hourly.latency_hist`):
 * changing HIST_SIZE or HIST_BASE needs a migration that rebuilds the rollups.
 */
export const HIST_SIZE = 80;
export const HIST_BASE = 1.2;

/** 1-based bucket index of a latency in ms: 1 is [0, 1), i ≥ 2 is [BASE^(i-2), BASE^(i-1)), the last is open-ended. */
export const histIndexSql = (ms: string) =>
  `(CASE WHEN ${ms} < 1 THEN 1 ELSE least(${HIST_SIZE}, 2 + floor(ln(${ms}) / ln(${HIST_BASE}))::int) END)`;

const indexes = Array.from({ length: HIST_SIZE }, (_, i) => i + 1);

/** The histogram of a group of raw rows whose bucket index is in column `b`. */
export const histCountSql = (b: string) => `ARRAY[${indexes.map((i) => `count(*) FILTER (WHERE ${b} = ${i})`).join(', ')}]::bigint[]`;

/** The histogram of a group of per-bucket counts (`b` = bucket index, `n` = how many). */
export const histFromCountsSql = (b: string, n: string) =>
  `ARRAY[${indexes.map((i) => `coalesce(sum(${n}) FILTER (WHERE ${b} = ${i}), 0)`).join(', ')}]::bigint[]`;

/** The element-wise sum of the histograms in a group. */
export const histSumSql = (h: string) => `ARRAY[${indexes.map((i) => `coalesce(sum(${h}[${i}]), 0)`).join(', ')}]::bigint[]`;

/** The element-wise sum of two histograms (an upsert's old and new row). */
export const histAddSql = (a: string, b: string) => `ARRAY[${indexes.map((i) => `${a}[${i}] + ${b}[${i}]`).join(', ')}]::bigint[]`;

function bounds(i: number): [number, number] {
  if (i === 0) return [0, 1];
  return [HIST_BASE ** (i - 1), HIST_BASE ** i];
}

/**
 * The `p` quantile (0..1) as `percentile_cont` computes it from raw values: the values at ranks
 * ⌊p·(n−1)⌋ and ⌈p·(n−1)⌉, interpolated. Each value is estimated from its bucket: a bucket's c
 * values are taken as spread evenly across it (clamped to the observed [min, max]).
 */
export function histPercentile(hist: readonly number[], p: number, min: number, max: number): number {
  let n = 0;
  for (const c of hist) n += c;
  if (!n) return 0;
  const rank = p * (n - 1);
  const lo = Math.floor(rank);
  const a = valueAt(hist, lo, min, max);
  return lo === rank ? a : a + (valueAt(hist, lo + 1, min, max) - a) * (rank - lo);
}

function valueAt(hist: readonly number[], k: number, min: number, max: number): number {
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    const c = hist[i];
    if (!c) continue;
    if (k < seen + c) {
      const [lo, hi] = bounds(i);
      const from = Math.min(Math.max(lo, min), max);
      const to = Math.max(Math.min(hi, max), from);
      return c === 1 ? (from + to) / 2 : from + ((to - from) * (k - seen)) / (c - 1);
    }
    seen += c;
  }
  return max;
}

/** Element-wise sum, for totals over several buckets. */
export function addHist(into: number[], add: readonly (number | string)[] | null | undefined): number[] {
  if (!add) return into;
  for (let i = 0; i < add.length; i++) into[i] = (into[i] ?? 0) + Number(add[i]);
  return into;
}
