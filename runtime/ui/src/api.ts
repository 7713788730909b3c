/**
 * The only way the UI talks to the control plane: its public API, with either the
 * `x-portkey-api-key` header (API-key login) or the session cookie (password / SSO login).
 */

export type Session =
  | { mode: 'api-key'; apiKey: string; apiBase: string }
  | { mode: 'cookie'; apiBase: string };

const STORE_KEY = 'tollgate.session';
const REMEMBER_KEY = 'tollgate.remember';

/** `<meta name="tollgate-api-base">` (set when the UI is hosted apart from the API), else this origin. */
export function defaultApiBase(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="tollgate-api-base"]')?.content?.trim();
  return (meta || location.origin).replace(/\/+$/, '');
}

let current: Session | null = null;
const listeners = new Set<() => void>();

export function session(): Session | null {
  if (current) return current;
  for (const store of [sessionStorage, localStorage]) {
    try {
      const raw = store.getItem(STORE_KEY);
      if (raw) return (current = JSON.parse(raw) as Session);
    } catch {
      /* storage unavailable or corrupt: treat as logged out */
    }
  }
  return null;
}

export function setSession(s: Session | null, remember = false): void {
  current = s;
  try {
    sessionStorage.removeItem(STORE_KEY);
    localStorage.removeItem(STORE_KEY);
    if (s) (remember ? localStorage : sessionStorage).setItem(STORE_KEY, JSON.stringify(s));
    if (remember) localStorage.setItem(REMEMBER_KEY, '1');
    else localStorage.removeItem(REMEMBER_KEY);
  } catch {
    /* private mode: the session lives in memory only */
  }
  listeners.forEach((l) => l());
}

export function onSessionChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Why a call failed, phrased for the person looking at the page. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The control plane has no such route: the feature is not offered (yet). */
    readonly notOffered = false,
    readonly body: unknown = undefined,
  ) {
    super(message);
  }
}

function messageOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return typeof body === 'string' && body ? body.slice(0, 300) : undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.message === 'string') return b.message;
  const err = b.error as Record<string, unknown> | undefined;
  if (err && typeof err.message === 'string') return err.message;
  return undefined;
}

/** A 404 from the router (no such route) rather than from a handler (no such object). */
function isMissingRoute(status: number, message: string | undefined): boolean {
  if (status === 405) return true;
  if (status !== 404) return false;
  return !message || /^no route for/i.test(message) || message === 'Not Found';
}

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  signal?: AbortSignal;
  /** Override the session (login probes). */
  as?: Session;
}

export function buildQuery(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  const s = opts.as ?? session();
  const base = s?.apiBase ?? defaultApiBase();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (s?.mode === 'api-key') headers['x-portkey-api-key'] = s.apiKey;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${base}${path}${buildQuery(opts.query)}`, {
      method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: s?.mode === 'cookie' ? 'include' : 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, `Cannot reach the control plane at ${base}. Check that it is running and reachable, then retry.`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  if (!res.ok) {
    const message = messageOf(body);
    if (isMissingRoute(res.status, message)) {
      throw new ApiError(res.status, `This control plane does not offer ${path.split('?')[0]} yet.`, true, body);
    }
    if (res.status === 401 && !opts.as) {
      // The key was revoked or the session expired: back to the login page.
      setSession(null);
    }
    throw new ApiError(res.status, message ?? `${res.status} ${res.statusText}`, false, body);
  }
  return body as T;
}

/** Portkey list answers: `{ object: 'list', total, data }`; a bare array is accepted too. */
export interface List<T> {
  total: number;
  data: T[];
}

export function asList<T>(body: unknown): List<T> {
  if (Array.isArray(body)) return { total: body.length, data: body as T[] };
  const b = (body ?? {}) as { total?: number; data?: unknown };
  const data = Array.isArray(b.data) ? (b.data as T[]) : [];
  return { total: typeof b.total === 'number' ? b.total : data.length, data };
}

export async function list<T>(path: string, opts: RequestOptions = {}): Promise<List<T>> {
  return asList<T>(await api(path, opts));
}

/** Probe whether a route exists without acting on it: 404 means no, anything else (405, 400, 401, redirect) means yes. */
export async function routeOffered(path: string, base = defaultApiBase()): Promise<boolean> {
  try {
    const res = await fetch(`${base}${path}`, { method: 'GET', redirect: 'manual', credentials: 'include' });
    if (res.type === 'opaqueredirect') return true;
    return res.status !== 404;
  } catch {
    return false;
  }
}
