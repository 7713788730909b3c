import type { SqlDatabase, SqlQueryable } from '../../core/db.js';
import { syncEntryKey, type SyncApiKey, type SyncDelta } from '../../core/sync-contract.js';
import type { ApiKeyRow } from '../db/api-keys-repo.js';
import type { ConfigRow } from '../db/configs-repo.js';
import { syncGuardrails, syncPricing, syncPromptPartials, syncPrompts } from '../db/prompt-sync.js';
import { asApp, setTenant } from '../db/tenant.js';
import type { VirtualKeyRow } from '../db/virtual-keys-repo.js';
import { OPAQUE_CHANGE } from './change-log.js';

/** Row → wire entry mappers, shared by the full snapshot and the delta. */
export function syncDefaults(defaults: Record<string, unknown> | null): SyncApiKey['defaults'] {
  if (!defaults) return null;
  const out: NonNullable<SyncApiKey['defaults']> = {};
  if (typeof defaults.config_id === 'string') out.config_id = defaults.config_id;
  if (defaults.metadata && typeof defaults.metadata === 'object') {
    out.metadata = Object.fromEntries(Object.entries(defaults.metadata).map(([k, v]) => [k, String(v)]));
  }
  return out;
}

export const apiKeyEntry = (k: ApiKeyRow) => ({
  id: k.id,
  key_hash: k.key_hash,
  workspace_id: k.workspace_id,
  type: k.type,
  scopes: k.scopes,
  status: k.status,
  expires_at: k.expires_at ? new Date(k.expires_at).toISOString() : null,
  defaults: syncDefaults(k.defaults),
  // Enforced by the gateway's limits module (shared counters in Redis).
  rate_limits: k.rate_limits ?? null,
  usage_limits: k.usage_limits ?? null,
});

/** Rate limits only when set: a gateway that predates them validates the entry all the same. */
export const workspaceEntry = (w: { id: string; slug: string; rate_limits?: unknown[] | null }) => ({ id: w.id, slug: w.slug, ...(w.rate_limits ? { rate_limits: w.rate_limits } : {}) });

export const configEntry = (c: ConfigRow) => ({ id: c.id, slug: c.slug, workspace_id: c.workspace_id, version: c.latest_version, config: c.config });

export const virtualKeyEntry = (v: VirtualKeyRow) => ({
  id: v.id,
  slug: v.slug,
  workspace_id: v.workspace_id,
  provider: v.provider,
  encrypted_key: v.encrypted_key,
  status: v.status,
  options: v.options,
  rate_limits: v.rate_limits ?? null,
  usage_limits: v.usage_limits ?? null,
});

/**
 * How to load the current entries of one entity kind by id. The key is the `entity` recorded in
 * `sync_changes`; `field` is the snapshot array it lives in. A changed entity of a kind not listed
 * here makes the delta fall back to a full snapshot.
 */
export interface DeltaLoader {
  field: string;
  load(tx: SqlQueryable, organisationId: string, ids: string[]): Promise<Record<string, unknown>[]>;
  /** A feature the gateway must announce (`x-tollgate-sync-features`) to get this kind as a delta; else a full snapshot. */
  requires?: string;
}

export const DELTA_LOADERS: Record<string, DeltaLoader> = {
  workspace: {
    field: 'workspaces',
    load: async (tx, org, ids) =>
      (await tx.query<{ id: string; slug: string; rate_limits: unknown[] | null }>('SELECT id, slug, rate_limits FROM workspaces WHERE organisation_id = $1 AND id = ANY($2)', [org, ids])).rows.map(
        workspaceEntry,
      ),
  },
  api_key: {
    field: 'api_keys',
    load: async (tx, org, ids) =>
      (await tx.query<ApiKeyRow>('SELECT * FROM api_keys WHERE organisation_id = $1 AND id = ANY($2)', [org, ids])).rows.map(apiKeyEntry),
  },
  config: {
    field: 'configs',
    // Archived configs are not served: absent here, they go out as deletes.
    load: async (tx, org, ids) =>
      (
        await tx.query<ConfigRow>(
          `SELECT c.*, v.config FROM configs c JOIN config_versions v ON v.config_id = c.id AND v.version = c.latest_version
           WHERE c.organisation_id = $1 AND c.status = 'active' AND c.id = ANY($2)`,
          [org, ids],
        )
      ).rows.map(configEntry),
  },
  virtual_key: {
    field: 'virtual_keys',
    load: async (tx, org, ids) =>
      (await tx.query<VirtualKeyRow>('SELECT * FROM virtual_keys WHERE organisation_id = $1 AND id = ANY($2)', [org, ids])).rows.map(virtualKeyEntry),
  },
  // A prompt's versions and labels are logged under the prompt (entity_id = prompt_id); the entry
  // carries its labels and labelled versions. Archived prompts are not served: they go out as deletes.
  prompt: { field: 'prompts', load: (tx, org, ids) => syncPrompts(tx, org, ids) },
  prompt_partial: { field: 'prompt_partials', load: (tx, org, ids) => syncPromptPartials(tx, org, ids) },
  guardrail: { field: 'guardrails', load: (tx, org, ids) => syncGuardrails(tx, org, ids) },
  // A price override, logged as `provider/model`: the merged price (override, else the shipped one),
  // or a delete when neither has that model any more.
  price: {
    field: 'pricing',
    requires: 'keyed-pricing',
    load: async (tx, org, ids) => {
      const wanted = new Set(ids);
      return (await syncPricing(tx, org)).filter((p) => wanted.has(syncEntryKey('pricing', p)));
    },
  },
};

/** Above this many changed entities a full snapshot is as cheap and simpler. */
export const MAX_DELTA_ENTITIES = 5_000;

export type DeltaAnswer =
  | { kind: 'unchanged'; version: number }
  | { kind: 'full'; reason: string }
  | { kind: 'delta'; delta: SyncDelta };

/**
 * What changed in an org after `since`, read under REPEATABLE READ so the revision, the log and the
 * rows agree. Answers `full` (with the reason) when a delta cannot be trusted: the gateway is ahead
 * (database restored), behind the retained window, the change set is large, or it touches an entity
 * kind with no loader (including the opaque marker). `undefined` when the org does not exist.
 */
export function buildDelta(
  db: SqlDatabase,
  organisationId: string,
  since: number,
  features: ReadonlySet<string> = new Set(),
  currentRevision?: number,
): Promise<DeltaAnswer | undefined> {
  // Every gateway of an org asks for the same delta when a change wakes them (they were all at
  // `since`): one build answers them all, and a later ask at the same revision reuses it.
  const key = `${organisationId}\0${since}\0${[...features].sort().join(',')}`;
  let memo = sharedDeltas.get(db);
  if (!memo) sharedDeltas.set(db, (memo = new Map()));
  const known = memo.get(key);
  if (known && (known.revision === undefined || known.revision === currentRevision)) return known.answer;
  const entry: { revision: number | undefined; answer: Promise<DeltaAnswer | undefined> } = { revision: undefined, answer: readDelta(db, organisationId, since, features) };
  memo.set(key, entry);
  if (memo.size > SHARED_DELTAS) memo.delete(memo.keys().next().value!);
  entry.answer.then(
    (answer) => {
      if (!answer || answer.kind === 'full') memo.delete(key);
      else entry.revision = answer.kind === 'delta' ? answer.delta.version : answer.version;
    },
    () => memo.delete(key),
  );
  return entry.answer;
}

/** A delta's serialised body: every gateway of the org woken by a change gets the same one, serialised once. */
const deltaBodies = new WeakMap<SyncDelta, string>();
export function deltaBody(delta: SyncDelta): string {
  let body = deltaBodies.get(delta);
  if (body === undefined) deltaBodies.set(delta, (body = JSON.stringify(delta)));
  return body;
}

/** Recent delta answers per database, by org, base revision and features; their revision tells whether they are still current. */
const sharedDeltas = new WeakMap<SqlDatabase, Map<string, { revision: number | undefined; answer: Promise<DeltaAnswer | undefined> }>>();
const SHARED_DELTAS = 256;

async function readDelta(db: SqlDatabase, organisationId: string, since: number, features: ReadonlySet<string>): Promise<DeltaAnswer | undefined> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await asApp(tx);
    await setTenant(tx, organisationId);
    const org = await tx.query<{ revision: string | number; sync_log_floor: string | number }>(
      'SELECT revision, sync_log_floor FROM organisations WHERE id = $1',
      [organisationId],
    );
    if (!org.rows[0]) return undefined;
    const revision = Number(org.rows[0].revision);
    const floor = Number(org.rows[0].sync_log_floor);
    if (since === revision) return { kind: 'unchanged', version: revision };
    if (since > revision) return { kind: 'full', reason: 'gateway ahead of the control plane' };
    if (since < floor) return { kind: 'full', reason: 'older than the retained change log' };

    const changed = await changesSince(tx, organisationId, since, revision, features);
    if (changed.kind === 'full') return changed;
    const { upserts, deletes } = changed;
    return {
      kind: 'delta',
      delta: {
        protocol: 2,
        kind: 'delta',
        organisation_id: organisationId,
        base_version: since,
        version: revision,
        generated_at: new Date().toISOString(),
        upserts,
        deletes,
      },
    };
  });
}

/**
 * The entries that changed in (`since`, `revision`], read in the caller's transaction (which must see
 * the org at `revision`): upserts and deletes by snapshot array, or `full` with the reason when the
 * log cannot describe them (an untracked change, too many, a kind the gateway cannot merge).
 * Shared by the delta answer and the materialised snapshot (materialised.ts).
 */
export async function changesSince(
  tx: SqlQueryable,
  organisationId: string,
  since: number,
  revision: number,
  features: ReadonlySet<string>,
): Promise<{ kind: 'full'; reason: string } | { kind: 'changes'; upserts: SyncDelta['upserts']; deletes: SyncDelta['deletes'] }> {
  const changes = await tx.query<{ entity: string; entity_id: string }>(
    `SELECT DISTINCT entity, entity_id FROM sync_changes WHERE organisation_id = $1 AND revision > $2 AND revision <= $3 LIMIT $4`,
    [organisationId, since, revision, MAX_DELTA_ENTITIES + 1],
  );
  if (changes.rows.length > MAX_DELTA_ENTITIES) return { kind: 'full', reason: 'too many changes' };
  const byEntity = new Map<string, string[]>();
  for (const { entity, entity_id } of changes.rows) {
    if (entity === OPAQUE_CHANGE || !DELTA_LOADERS[entity]) return { kind: 'full', reason: `untracked change (${entity})` };
    const needs = DELTA_LOADERS[entity].requires;
    if (needs && !features.has(needs)) return { kind: 'full', reason: `the gateway does not merge ${entity} deltas (${needs})` };
    let ids = byEntity.get(entity);
    if (!ids) byEntity.set(entity, (ids = []));
    ids.push(entity_id);
  }
  const upserts: SyncDelta['upserts'] = {};
  const deletes: SyncDelta['deletes'] = {};
  for (const [entity, ids] of byEntity) {
    const loader = DELTA_LOADERS[entity]!;
    const entries = await loader.load(tx, organisationId, ids);
    const found = new Set(entries.map((e) => syncEntryKey(loader.field, e)));
    if (entries.length) (upserts[loader.field] ??= []).push(...entries);
    const gone = ids.filter((id) => !found.has(id));
    if (gone.length) (deletes[loader.field] ??= []).push(...gone);
  }
  return { kind: 'changes', upserts, deletes };
}
