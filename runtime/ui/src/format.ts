/** Formatting, secret masking and line diffs shared by the pages. */

export function fmtDate(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  const d = new Date(v as string | number);
  if (Number.isNaN(d.getTime())) return String(v);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function fmtAge(v: unknown, now = Date.now()): string {
  if (v === null || v === undefined || v === '') return '—';
  const t = typeof v === 'number' ? v : new Date(v as string).getTime();
  if (Number.isNaN(t)) return '—';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function fmtNum(v: unknown, digits = 0): string {
  const n = Number(v);
  if (v === null || v === undefined || v === '' || Number.isNaN(n)) return '—';
  return n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Costs in Portkey's analytics are in cents; the UI shows dollars. */
export function fmtCost(v: unknown, cents = false): string {
  const n = Number(v);
  if (v === null || v === undefined || v === '' || Number.isNaN(n)) return '—';
  const dollars = cents ? n / 100 : n;
  return `$${dollars.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: dollars < 1 ? 6 : 2 })}`;
}

export function fmtMs(v: unknown): string {
  const n = Number(v);
  if (v === null || v === undefined || v === '' || Number.isNaN(n)) return '—';
  return n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`;
}

/** The first present field among several names (the observability API may use Portkey's or ours). */
export function pick<T = unknown>(obj: unknown, ...paths: string[]): T | undefined {
  for (const path of paths) {
    let v: unknown = obj;
    for (const part of path.split('.')) {
      if (v === null || v === undefined || typeof v !== 'object') {
        v = undefined;
        break;
      }
      v = (v as Record<string, unknown>)[part];
    }
    if (v !== undefined && v !== null && v !== '') return v as T;
  }
  return undefined;
}

const SECRET_KEY = /(authorization|api[-_]?key|secret|password|token|x-portkey-virtual-key|cookie|credential|private[-_]?key)/i;
const SECRET_VALUE = /\b(sk-[A-Za-z0-9_-]{8,}|pk-[A-Za-z0-9_-]{8,}|tg[_-][A-Za-z0-9_-]{12,}|Bearer\s+[A-Za-z0-9._~+/-]{8,}|AKIA[0-9A-Z]{16})/g;

export function maskString(s: string): string {
  return s.replace(SECRET_VALUE, (m) => {
    const bearer = /^Bearer\s+/i.exec(m);
    const secret = bearer ? m.slice(bearer[0].length) : m;
    return `${bearer ? bearer[0] : ''}${secret.slice(0, 4)}••••${secret.length > 12 ? secret.slice(-2) : ''}`;
  });
}

/**
 * Masks secrets before anything is shown: values under secret-looking keys and secret-looking
 * strings anywhere. The data plane masks too; this is the belt to its braces.
 */
export function maskSecrets(value: unknown, depth = 0): unknown {
  if (depth > 40) return '…';
  if (typeof value === 'string') return maskString(value);
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_KEY.test(k) && !/^(total_)?tokens?$|_tokens$|token_count|max_tokens/i.test(k) && (typeof v === 'string' || typeof v === 'number')) {
        const s = String(v);
        out[k] = s.length <= 4 ? '••••' : `${s.slice(0, 4)}••••`;
      } else out[k] = maskSecrets(v, depth + 1);
    }
    return out;
  }
  return value;
}

export function pretty(value: unknown): string {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2) ?? '';
}

export type DiffLine = { kind: 'same' | 'add' | 'del'; text: string; a?: number; b?: number };

/** Line diff by longest common subsequence; fine for configs and prompts (hundreds of lines). */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length * b.length > 4_000_000) {
    return [...a.map((text) => ({ kind: 'del' as const, text })), ...b.map((text) => ({ kind: 'add' as const, text }))];
  }
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) out.push({ kind: 'same', text: a[i], a: ++i, b: ++j });
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ kind: 'del', text: a[i], a: ++i });
    else out.push({ kind: 'add', text: b[j], b: ++j });
  }
  while (i < n) out.push({ kind: 'del', text: a[i], a: ++i });
  while (j < m) out.push({ kind: 'add', text: b[j], b: ++j });
  return out;
}

/** `{{ name }}` and Mustache section names (`{{#items}}`), excluding partials and comments. */
export function templateVariables(template: string): string[] {
  const names = new Set<string>();
  for (const m of template.matchAll(/{{\s*([#^/&{]?)\s*([A-Za-z_][\w.-]*)\s*}?}}/g)) {
    if (m[1] !== '/') names.add(m[2]);
  }
  return [...names];
}

export type TimeRange = { from: Date; to: Date };

export const RANGES: { id: string; label: string; ms: number }[] = [
  { id: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
];

export function resolveRange(id: string | null, fromS?: string | null, toS?: string | null): TimeRange {
  if (id === 'custom' && fromS && toS) {
    const from = new Date(fromS);
    const to = new Date(toS);
    if (!Number.isNaN(from.getTime()) && !Number.isNaN(to.getTime())) return { from, to };
  }
  const r = RANGES.find((x) => x.id === id) ?? RANGES[2];
  const to = new Date();
  return { from: new Date(to.getTime() - r.ms), to };
}
