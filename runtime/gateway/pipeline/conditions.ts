import { HttpProblem } from '../../core/errors.js';

/**
 * Portkey's conditional-routing queries: `{ "metadata.plan": { "$eq": "paid" } }`, `$and`/`$or`
 * arrays, the comparison operators and `$regex`, over `metadata.*` (x-portkey-metadata) and
 * `params.*` (the request body). A bare value means `$eq`.
 */
export interface ConditionInput {
  metadata: Record<string, unknown>;
  params: Record<string, unknown>;
}

const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$regex']);

function lookup(input: ConditionInput, path: string): unknown {
  const [root, ...rest] = path.split('.');
  let value: unknown = root === 'metadata' ? input.metadata : root === 'params' ? input.params : undefined;
  for (const key of rest) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const regexCache = new Map<string, RegExp>();
function regex(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    try {
      re = new RegExp(source);
    } catch {
      throw new HttpProblem(400, `conditional routing: "${source}" is not a valid $regex`);
    }
    if (regexCache.size < 1000) regexCache.set(source, re);
  }
  return re;
}

function compare(op: string, actual: unknown, expected: unknown): boolean {
  switch (op) {
    case '$eq':
      return actual === expected;
    case '$ne':
      return actual !== expected;
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const a = typeof actual === 'string' && typeof expected === 'number' ? Number(actual) : actual;
      if (typeof a !== typeof expected || (typeof a !== 'number' && typeof a !== 'string')) return false;
      const [x, y] = [a as number | string, expected as number | string];
      return op === '$gt' ? x > y : op === '$gte' ? x >= y : op === '$lt' ? x < y : x <= y;
    }
    case '$in':
      return Array.isArray(expected) && expected.includes(actual);
    case '$nin':
      return Array.isArray(expected) && !expected.includes(actual);
    case '$regex':
      return typeof actual === 'string' && typeof expected === 'string' && regex(expected).test(actual);
    default:
      throw new HttpProblem(400, `conditional routing: unknown operator "${op}"`);
  }
}

export function matches(query: unknown, input: ConditionInput): boolean {
  if (!query || typeof query !== 'object' || Array.isArray(query)) throw new HttpProblem(400, 'conditional routing: a query must be an object');
  for (const [key, cond] of Object.entries(query as Record<string, unknown>)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(cond)) throw new HttpProblem(400, `conditional routing: ${key} takes an array`);
      const ok = key === '$and' ? cond.every((q) => matches(q, input)) : cond.some((q) => matches(q, input));
      if (!ok) return false;
      continue;
    }
    if (!key.startsWith('metadata.') && !key.startsWith('params.')) throw new HttpProblem(400, `conditional routing: "${key}" must start with metadata. or params.`);
    const actual = lookup(input, key);
    if (cond && typeof cond === 'object' && !Array.isArray(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
      for (const [op, expected] of Object.entries(cond as Record<string, unknown>)) {
        if (!OPERATORS.has(op)) throw new HttpProblem(400, `conditional routing: unknown operator "${op}"`);
        if (!compare(op, actual, expected)) return false;
      }
    } else if (actual !== cond) return false;
  }
  return true;
}
