import { createHash } from 'node:crypto';
import type { KeyValueCache } from '../../core/ports.js';
import type { CacheConfig, LeafPlan } from '../pipeline/plan.js';

/**
 * The simple response cache (`cache: { mode: "simple", max_age }`): the key is a digest of the
 * normalised request body (keys sorted), the endpoint path, the resolved target (provider, base URL,
 * a digest of its key and options) and the caller's namespace. Values are the answer exactly as sent
 * (JSON, or the SSE text of a stream, replayed as SSE), stored through the KeyValueCache port.
 */
export type CacheStatus = 'HIT' | 'MISS' | 'REFRESH' | 'DISABLED';

/** Portkey's default: a week. */
export const DEFAULT_MAX_AGE_SECONDS = 7 * 24 * 3600;
const PREFIX = 'tollgate:rc:';

interface Entry {
  s: number;
  t: string;
  b: string;
}

/** JSON with object keys sorted at every level, so `{a,b}` and `{b,a}` share a key. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .filter((k) => obj[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`)
    .join(',')}}`;
}

export function cacheKey(input: { namespace?: string; path: string; leaf: LeafPlan; organisationId: string; workspaceId: string | null; body: unknown }): string {
  const { leaf } = input;
  const h = createHash('sha256');
  h.update(`${input.organisationId}\0${input.workspaceId ?? ''}\0${input.namespace ?? ''}\0${input.path}\0`);
  h.update(`${leaf.provider.id}\0${leaf.target.baseUrl}\0${leaf.target.apiKey}\0${stableStringify(leaf.target.options)}\0`);
  h.update(stableStringify(input.body));
  return PREFIX + h.digest('base64url');
}

export function isCacheable(cfg: CacheConfig | undefined): cfg is CacheConfig {
  // Semantic mode needs an embedding store; until then it behaves as simple.
  return !!cfg && (cfg.mode === 'simple' || cfg.mode === 'semantic');
}

export class ResponseCache {
  constructor(private readonly store: KeyValueCache) {}

  async get(key: string): Promise<{ status: number; contentType: string; body: string } | undefined> {
    try {
      const raw = await this.store.get(key);
      if (!raw) return undefined;
      const entry = JSON.parse(raw) as Entry;
      return { status: entry.s, contentType: entry.t, body: entry.b };
    } catch {
      return undefined; // a cache outage is a miss, never a failed request
    }
  }

  set(key: string, cfg: CacheConfig, status: number, contentType: string, body: string): void {
    const entry: Entry = { s: status, t: contentType, b: body };
    this.store.set(key, JSON.stringify(entry), cfg.max_age ?? DEFAULT_MAX_AGE_SECONDS).catch(() => {});
  }
}
