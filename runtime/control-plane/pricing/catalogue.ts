import { z } from 'zod';
import shipped from './default-prices.json' with { type: 'json' };

/**
 * The model price catalogue shipped in the package (default-prices.json, USD per 1M tokens),
 * overridden per organisation through `/v1/pricing` (table `pricing_overrides`). Both are synced to
 * gateways for cost calculation, so a price change needs no redeploy.
 */
export const priceEntry = z.object({
  provider: z.string().min(1).max(64),
  model: z.string().min(1).max(255),
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cached_input: z.number().nonnegative().nullable(),
});
export type PriceEntry = z.infer<typeof priceEntry>;

let defaults: PriceEntry[] | undefined;

/** Validated once per process; a JSON import, so esbuild bundles the file into each Lambda. */
export function defaultPrices(): PriceEntry[] {
  defaults ??= z.object({ prices: z.array(priceEntry) }).parse(shipped).prices;
  return defaults;
}

export const priceKey = (p: { provider: string; model: string }) => `${p.provider}/${p.model}`;

/** Defaults with the org's overrides on top; `source` says which. */
export function mergedPrices(overrides: PriceEntry[]): (PriceEntry & { source: 'default' | 'override' })[] {
  const out = new Map(defaultPrices().map((p) => [priceKey(p), { ...p, source: 'default' as 'default' | 'override' }]));
  for (const o of overrides) out.set(priceKey(o), { ...o, source: 'override' });
  return [...out.values()].sort((a, b) => priceKey(a).localeCompare(priceKey(b)));
}
