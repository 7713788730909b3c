import { useEffect, useState } from 'preact/hooks';
import { list } from './api.ts';
import { resolveRange } from './format.ts';
import { setQuery, useLocation } from './router.ts';
import { Field, RangePicker, val } from './ui.tsx';

/**
 * The filters the logs explorer and the analytics dashboards share, kept in the query string.
 * Sent to the API under Portkey's analytics parameter names (see docs/ui.md).
 */
export const FILTER_KEYS = ['model', 'provider', 'status', 'cost_min', 'cost_max', 'api_key', 'config', 'prompt', 'trace_id', 'metadata'] as const;
export type Filters = Partial<Record<(typeof FILTER_KEYS)[number] | 'range' | 'from' | 'to', string>>;

export function useFilters(): Filters {
  const { search } = useLocation();
  const f: Filters = {};
  for (const k of [...FILTER_KEYS, 'range', 'from', 'to'] as const) {
    const v = search.get(k);
    if (v) f[k] = v;
  }
  return f;
}

/** `key=value, key2=value2` → `{"key":"value","key2":"value2"}` (Portkey's `metadata` filter is JSON). */
export function metadataJson(s: string | undefined): string | undefined {
  if (!s?.trim()) return undefined;
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    const [k, ...rest] = part.split('=');
    if (k?.trim() && rest.length) out[k.trim()] = rest.join('=').trim();
  }
  return Object.keys(out).length ? JSON.stringify(out) : undefined;
}

const cents = (usd: string | undefined) => (usd && !Number.isNaN(Number(usd)) ? String(Math.round(Number(usd) * 100 * 1e6) / 1e6) : undefined);

export function apiQuery(f: Filters): Record<string, string | undefined> {
  const { from, to } = resolveRange(f.range ?? '24h', f.from, f.to);
  const status = f.status;
  return {
    time_of_generation_min: from.toISOString(),
    time_of_generation_max: to.toISOString(),
    ai_org_model: f.model,
    provider: f.provider,
    status_code: status && /^\d/.test(status) ? status : undefined,
    success: status === 'success' ? 'true' : status === 'error' ? 'false' : undefined,
    // The API takes cents (Portkey's unit); the form takes dollars.
    cost_min: cents(f.cost_min),
    cost_max: cents(f.cost_max),
    api_key_ids: f.api_key,
    configs: f.config,
    prompt_id: f.prompt,
    trace_id: f.trace_id,
    metadata: metadataJson(f.metadata),
  };
}

interface Named {
  id: string;
  slug?: string;
  name?: string;
}

function useOptions(path: string, enabled: boolean): Named[] {
  const [items, setItems] = useState<Named[]>([]);
  useEffect(() => {
    if (!enabled) return;
    const ctrl = new AbortController();
    list<Named>(path, { signal: ctrl.signal, query: { page_size: 200 } }).then(
      (l) => setItems(l.data),
      () => setItems([]),
    );
    return () => ctrl.abort();
  }, [path, enabled]);
  return items;
}

/**
 * `optionsReady: false` holds back the API-key and config pick lists until the page's own data has
 * answered, so the first logs page does not queue behind them (the local database is one connection).
 */
export function FilterBar(props: { extra?: preact.ComponentChildren; optionsReady?: boolean }) {
  const f = useFilters();
  const [draft, setDraft] = useState<Filters>(f);
  const [ready, setReady] = useState(props.optionsReady !== false);
  useEffect(() => {
    if (props.optionsReady !== false) setReady(true);
  }, [props.optionsReady]);
  const apiKeys = useOptions('/v1/api-keys', ready);
  const configs = useOptions('/v1/configs', ready);
  const prompts = useOptions('/v1/prompts', ready);
  useEffect(() => setDraft(f), [location.search]);
  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: val(e as never) });
  function apply(e: Event) {
    e.preventDefault();
    setQuery({ ...Object.fromEntries([...FILTER_KEYS].map((k) => [k, draft[k]?.trim() || undefined])), page: undefined });
  }
  return (
    <form class="filters" onSubmit={apply} aria-label="Filters">
      <div class="form-grid">
        <RangePicker
          value={f.range ?? '24h'}
          onChange={(range) => setQuery({ range, page: undefined })}
          from={f.from}
          to={f.to}
          onCustom={(from, to) => setQuery({ range: 'custom', from, to, page: undefined })}
        />
        <Field label="Model">{(id) => <input id={id} placeholder="gpt-4o-mini" value={draft.model ?? ''} onInput={set('model')} />}</Field>
        <Field label="Provider">{(id) => <input id={id} placeholder="openai" value={draft.provider ?? ''} onInput={set('provider')} />}</Field>
        <Field label="Status">
          {(id) => (
            <select id={id} value={draft.status ?? ''} onChange={set('status')}>
              <option value="">Any</option>
              <option value="success">Success</option>
              <option value="error">Error</option>
              <option value="200">200</option>
              <option value="400">400</option>
              <option value="401">401</option>
              <option value="429">429</option>
              <option value="500">500</option>
              <option value="502">502</option>
              <option value="503">503</option>
            </select>
          )}
        </Field>
        <Field label="Cost min (USD)">{(id) => <input id={id} type="number" min="0" step="any" value={draft.cost_min ?? ''} onInput={set('cost_min')} />}</Field>
        <Field label="Cost max (USD)">{(id) => <input id={id} type="number" min="0" step="any" value={draft.cost_max ?? ''} onInput={set('cost_max')} />}</Field>
        <Field label="API key">
          {(id) => (
            <select id={id} value={draft.api_key ?? ''} onChange={set('api_key')}>
              <option value="">Any</option>
              {apiKeys.map((k) => (
                <option key={k.id} value={k.id}>
                  {k.name ?? k.id}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Config">
          {(id) => (
            <select id={id} value={draft.config ?? ''} onChange={set('config')}>
              <option value="">Any</option>
              {configs.map((c) => (
                <option key={c.id} value={c.slug ?? c.id}>
                  {c.name ?? c.slug}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Prompt">
          {(id) => (
            <select id={id} value={draft.prompt ?? ''} onChange={set('prompt')}>
              <option value="">Any</option>
              {/* A shared link may name a prompt this list does not have (deleted, or past the first page): keep it selectable. */}
              {draft.prompt && !prompts.some((p) => p.id === draft.prompt) && <option value={draft.prompt}>{draft.prompt}</option>}
              {prompts.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name ?? p.slug ?? p.id}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Trace id">{(id) => <input id={id} class="mono" value={draft.trace_id ?? ''} onInput={set('trace_id')} />}</Field>
        <Field label="Metadata" hint="key=value, comma-separated">
          {(id, d) => <input id={id} aria-describedby={d} placeholder="env=prod, team=search" value={draft.metadata ?? ''} onInput={set('metadata')} />}
        </Field>
      </div>
      <div class="form-actions">
        {props.extra}
        <button type="button" class="btn" onClick={() => setQuery(Object.fromEntries([...FILTER_KEYS].map((k) => [k, undefined])))}>
          Clear filters
        </button>
        <button type="submit" class="btn primary">
          Apply filters
        </button>
      </div>
    </form>
  );
}
