import type { DataPlaneRecord, DataPlaneRegistry } from '../core/data-plane-registry.js';

/** The embedded registry for `tollgate dev` and single-process control planes. */
export function memoryRegistry(now: () => number = Date.now): DataPlaneRegistry {
  const records = new Map<string, DataPlaneRecord>();
  const key = (org: string, instance: string) => `${org}\u0000${instance}`;
  return {
    async record(entry) {
      const previous = records.get(key(entry.organisation_id, entry.instance_id));
      records.set(key(entry.organisation_id, entry.instance_id), { ...entry, first_seen_at: previous?.first_seen_at ?? entry.first_seen_at });
    },
    async list(organisationId) {
      const nowSeconds = now() / 1000;
      const out: DataPlaneRecord[] = [];
      for (const [k, r] of records) {
        if (r.expires_at <= nowSeconds) records.delete(k);
        else if (r.organisation_id === organisationId) out.push({ ...r });
      }
      return out.sort((a, b) => b.last_seen_at.localeCompare(a.last_seen_at));
    },
    async close() {
      records.clear();
    },
  };
}
