import { DEFAULT_CURRENCY } from '../../core/metrics.js';

/**
 * Cost of one request, in cents. Prices come from the synced pricing catalogue (`pricing` in the
 * sync snapshot, issue 4) when the gateway has one, else from the small built-in table below.
 * Model names match exactly, then by the longest catalogue name that prefixes them
 * (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`).
 */
export interface ModelPrice {
  /** Per million tokens, in `currency` (major units, e.g. dollars). */
  inputPerMillion: number;
  outputPerMillion: number;
  cachedInputPerMillion?: number;
  currency: string;
}

export type PriceTable = Map<string, ModelPrice>; // key: `${provider}/${model}` and `*/${model}`

/** Public list prices (USD per 1M tokens) of common models: a fallback only, the catalogue wins. */
const BUILT_IN: [string, string, number, number][] = [
  ['openai', 'gpt-4o-mini', 0.15, 0.6],
  ['openai', 'gpt-4o', 2.5, 10],
  ['openai', 'gpt-4.1-nano', 0.1, 0.4],
  ['openai', 'gpt-4.1-mini', 0.4, 1.6],
  ['openai', 'gpt-4.1', 2, 8],
  ['openai', 'gpt-4-turbo', 10, 30],
  ['openai', 'gpt-4', 30, 60],
  ['openai', 'gpt-3.5-turbo', 0.5, 1.5],
  ['openai', 'o1-mini', 1.1, 4.4],
  ['openai', 'o1', 15, 60],
  ['openai', 'o3-mini', 1.1, 4.4],
  ['openai', 'o4-mini', 1.1, 4.4],
  ['openai', 'o3', 2, 8],
  ['openai', 'text-embedding-3-small', 0.02, 0],
  ['openai', 'text-embedding-3-large', 0.13, 0],
  ['openai', 'text-embedding-ada-002', 0.1, 0],
  ['anthropic', 'claude-3-5-haiku', 0.8, 4],
  ['anthropic', 'claude-3-haiku', 0.25, 1.25],
  ['anthropic', 'claude-3-5-sonnet', 3, 15],
  ['anthropic', 'claude-3-7-sonnet', 3, 15],
  ['anthropic', 'claude-sonnet-4', 3, 15],
  ['anthropic', 'claude-opus-4', 15, 75],
  ['anthropic', 'claude-3-opus', 15, 75],
];

export const builtInPrices: PriceTable = new Map(
  BUILT_IN.flatMap(([provider, model, input, output]) => {
    const price = { inputPerMillion: input, outputPerMillion: output, currency: DEFAULT_CURRENCY };
    return [
      [`${provider}/${model}`, price],
      [`*/${model}`, price],
    ] as [string, ModelPrice][];
  }),
);

function num(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Per-million multiplier from a field name or a `unit` field: per token, per 1K, per 1M; cents or not. */
function scale(key: string, unit: string): number {
  const k = `${key} ${unit}`.toLowerCase();
  let s = 1;
  if (/per_?token|per_?1_?token|\/token/.test(k) && !/1k|1m|thousand|million/.test(k)) s = 1_000_000;
  else if (/1k|thousand/.test(k)) s = 1000;
  if (/cent/.test(k)) s /= 100;
  return s;
}

function priceFields(entry: Record<string, unknown>): ModelPrice | undefined {
  const unit = typeof entry.unit === 'string' ? entry.unit : '';
  let input: number | undefined;
  let output: number | undefined;
  let cached: number | undefined;
  const scan = (obj: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(obj)) {
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        scan(value as Record<string, unknown>);
        continue;
      }
      const n = num(value);
      if (n === undefined) continue;
      const k = key.toLowerCase();
      if (/cache/.test(k) && /input|prompt|read/.test(k)) cached ??= n * scale(key, unit);
      else if (/input|prompt|request/.test(k)) input ??= n * scale(key, unit);
      else if (/output|completion|response/.test(k)) output ??= n * scale(key, unit);
    }
  };
  scan(entry);
  if (input === undefined && output === undefined) return undefined;
  return {
    inputPerMillion: input ?? 0,
    outputPerMillion: output ?? 0,
    cachedInputPerMillion: cached,
    currency: typeof entry.currency === 'string' ? entry.currency.toUpperCase() : DEFAULT_CURRENCY,
  };
}

const parsedCatalogues = new WeakMap<object, PriceTable>();

/**
 * Reads the synced catalogue whatever its exact layout: an array of `{ provider, model, ...prices }`
 * (or under `entries`/`models`/`data`), or `{ [provider]: { [model]: prices } }`.
 */
export function catalogueTable(pricing: unknown): PriceTable | undefined {
  if (!pricing || typeof pricing !== 'object') return undefined;
  const cached = parsedCatalogues.get(pricing);
  if (cached) return cached;
  const table: PriceTable = new Map();
  const add = (provider: unknown, model: unknown, entry: Record<string, unknown>) => {
    if (typeof model !== 'string' || !model) return;
    const price = priceFields(entry);
    if (!price) return;
    const p = typeof provider === 'string' && provider ? provider : '*';
    table.set(`${p}/${model}`, price);
    if (!table.has(`*/${model}`)) table.set(`*/${model}`, price);
  };
  const p = pricing as Record<string, unknown>;
  const list = Array.isArray(pricing) ? pricing : [p.entries, p.models, p.data, p.prices].find(Array.isArray);
  if (list) {
    for (const e of list as Record<string, unknown>[]) if (e && typeof e === 'object') add(e.provider, e.model ?? e.model_name ?? e.name, e);
  } else {
    for (const [provider, models] of Object.entries(p)) {
      if (!models || typeof models !== 'object') continue;
      for (const [model, entry] of Object.entries(models as Record<string, unknown>)) {
        if (entry && typeof entry === 'object') add(provider, model, entry as Record<string, unknown>);
      }
    }
  }
  parsedCatalogues.set(pricing, table);
  return table;
}

/** Answers per table and provider/model (null: no price): the prefix scan below runs once per distinct model. */
const lookups = new WeakMap<PriceTable, Map<string, ModelPrice | null>>();
const LOOKUP_CACHE_LIMIT = 1000;

function lookup(table: PriceTable, provider: string, model: string): ModelPrice | undefined {
  let memo = lookups.get(table);
  if (!memo) lookups.set(table, (memo = new Map()));
  const key = `${provider}\0${model}`;
  let price = memo.get(key);
  if (price === undefined) {
    price = scan(table, provider, model) ?? null;
    if (memo.size >= LOOKUP_CACHE_LIMIT) memo.delete(memo.keys().next().value!);
    memo.set(key, price);
  }
  return price ?? undefined;
}

function scan(table: PriceTable, provider: string, model: string): ModelPrice | undefined {
  const exact = table.get(`${provider}/${model}`) ?? table.get(`*/${model}`);
  if (exact) return exact;
  let best: { len: number; price: ModelPrice } | undefined;
  for (const [key, price] of table) {
    const slash = key.indexOf('/');
    const p = key.slice(0, slash);
    const m = key.slice(slash + 1);
    if ((p === provider || p === '*') && model.startsWith(m) && (!best || m.length > best.len || (m.length === best.len && p === provider))) {
      best = { len: m.length, price };
    }
  }
  return best?.price;
}

export function priceFor(pricing: unknown, provider: string, model: string): ModelPrice | undefined {
  if (!model) return undefined;
  const catalogue = catalogueTable(pricing);
  return (catalogue && lookup(catalogue, provider, model)) ?? lookup(builtInPrices, provider, model);
}

/** Cents, rounded to 1e-9 cent (a single token of a cheap model costs ~1e-5 cent). */
export function costCents(price: ModelPrice | undefined, inputTokens: number, outputTokens: number): number {
  if (!price) return 0;
  const cents = ((inputTokens * price.inputPerMillion + outputTokens * price.outputPerMillion) / 1_000_000) * 100;
  return Math.round(cents * 1e9) / 1e9;
}
