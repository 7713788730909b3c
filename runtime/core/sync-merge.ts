import { syncEntryKey, type SyncDelta, type SyncSnapshot } from './sync-contract.js';

/**
 * A new snapshot: `base` with the delta's upserts and deletes applied, array by array, by `id`
 * (`provider/model` for pricing). `base` is left untouched (both planes share snapshots between
 * readers). Used by the gateway on each delta and by the control plane to roll its materialised
 * snapshot forward.
 */
export function mergeDelta(base: SyncSnapshot, delta: Pick<SyncDelta, 'version' | 'generated_at' | 'upserts' | 'deletes'>): SyncSnapshot {
  const next: Record<string, unknown> = { ...base, version: delta.version, generated_at: delta.generated_at };
  const fields = new Set([...Object.keys(delta.upserts), ...Object.keys(delta.deletes)]);
  for (const field of fields) {
    const upserts = delta.upserts[field] ?? [];
    const deletes = new Set(delta.deletes[field] ?? []);
    const replaced = new Map(upserts.map((e) => [syncEntryKey(field, e), e]));
    const current = ((base as Record<string, unknown>)[field] as Record<string, unknown>[] | undefined) ?? [];
    const out: Record<string, unknown>[] = [];
    for (const entry of current) {
      const id = syncEntryKey(field, entry);
      if (deletes.has(id)) continue;
      const update = replaced.get(id);
      if (update) {
        out.push(update);
        replaced.delete(id);
      } else out.push(entry);
    }
    for (const entry of replaced.values()) out.push(entry);
    next[field] = out;
  }
  return next as SyncSnapshot;
}
