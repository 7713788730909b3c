import type { MetricRecord } from '../../core/metrics.js';
import { METRIC_COLUMNS, type MetricColumn } from '../../core/metrics-wire.js';
import { badRequest } from '../http/problems.js';

const MAX_RECORDS = 10_000;

/** One column's values for records 0..count-1, or a 400 naming the column and what is wrong with it. */
function expand(name: MetricColumn, col: unknown, count: number): (i: number) => unknown {
  if (Array.isArray(col)) {
    if (col.length !== count) throw badRequest(`columns.${name}: expected ${count} values, got ${col.length}`);
    return (i) => col[i];
  }
  if (col && typeof col === 'object') {
    const o = col as Record<string, unknown>;
    if ('c' in o) return () => o.c;
    const { d, i: idx } = o as { d?: unknown; i?: unknown };
    if (Array.isArray(d) && Array.isArray(idx)) {
      if (idx.length !== count) throw badRequest(`columns.${name}.i: expected ${count} indexes, got ${idx.length}`);
      for (const k of idx) {
        if (!Number.isInteger(k) || k < 0 || k >= d.length) throw badRequest(`columns.${name}.i: ${JSON.stringify(k)} is not an index into columns.${name}.d`);
      }
      return (i) => d[idx[i] as number];
    }
  }
  throw badRequest(`columns.${name}: expected an array, { "c": value } or { "d": [...], "i": [...] }`);
}

/**
 * Format 2 (columnar) → the format 1 rows it stands for (`created_at` back from epoch ms to ISO 8601). Only the shape of the columns is checked
 * here; the rows then go through the same record checks as format 1.
 */
export function decodeColumnarRecords(body: Record<string, unknown>): MetricRecord[] {
  const count = body.count;
  if (!Number.isInteger(count) || (count as number) < 0 || (count as number) > MAX_RECORDS) {
    throw badRequest(`count: expected an integer from 0 to ${MAX_RECORDS}`);
  }
  const n = count as number;
  if (n === 0) return [];
  const columns = body.columns;
  if (!columns || typeof columns !== 'object' || Array.isArray(columns)) throw badRequest('columns: expected an object of columns by field name');
  const getters = METRIC_COLUMNS.map((name) => {
    if (!Object.hasOwn(columns, name)) throw badRequest(`columns.${name}: missing`);
    return expand(name, (columns as Record<string, unknown>)[name], n);
  });
  const records = new Array<MetricRecord>(n);
  for (let i = 0; i < n; i++) {
    const r: Record<string, unknown> = {};
    for (let c = 0; c < METRIC_COLUMNS.length; c++) r[METRIC_COLUMNS[c]] = getters[c](i);
    // Format 2 sends created_at as epoch milliseconds; the stored record has it in ISO 8601.
    const ms = r.created_at;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw badRequest(`columns.created_at: value ${i} is not epoch milliseconds`);
    r.created_at = new Date(ms).toISOString();
    records[i] = r as MetricRecord;
  }
  return records;
}
