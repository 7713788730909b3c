/** One change between two JSON documents; `path` is a JSON Pointer (RFC 6901), as in JSON Patch. */
export interface JsonChange {
  op: 'add' | 'remove' | 'replace';
  path: string;
  from?: unknown;
  to?: unknown;
}

const pointer = (parts: (string | number)[]) => parts.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The changes that turn `a` into `b`: objects compared key by key, arrays index by index (a target
 * list of a fallback is positional, so a moved target shows as replaced, which is what it means
 * for routing), anything else compared by value.
 */
export function jsonDiff(a: unknown, b: unknown, at: (string | number)[] = []): JsonChange[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) =>
      !(k in b) ? [{ op: 'remove' as const, path: pointer([...at, k]), from: a[k] }] : !(k in a) ? [{ op: 'add' as const, path: pointer([...at, k]), to: b[k] }] : jsonDiff(a[k], b[k], [...at, k]),
    );
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: JsonChange[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= b.length) out.push({ op: 'remove', path: pointer([...at, i]), from: a[i] });
      else if (i >= a.length) out.push({ op: 'add', path: pointer([...at, i]), to: b[i] });
      else out.push(...jsonDiff(a[i], b[i], [...at, i]));
    }
    return out;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ op: 'replace', path: pointer(at), from: a, to: b }];
}
