import type { SqlDatabase, SqlQueryable } from '../../core/db.js';
import type { SyncSnapshot } from '../../core/sync-contract.js';
import { createHash } from 'node:crypto';
import { mergeDelta } from '../../core/sync-merge.js';
import { TOLLGATE_VERSION } from '../../core/version.js';
import { defaultPrices } from '../pricing/catalogue.js';
import { asApp, asPlatform, setTenant } from '../db/tenant.js';
import { changesSince, DELTA_LOADERS } from './delta.js';
import { readSnapshot } from './snapshot.js';
import { adoptSnapshotBody, snapshotBody, snapshotChunkOffsets, type ChunkOffsets } from '../../core/snapshot-body.js';

export { snapshotBody };

/**
 * Each org's full snapshot, kept materialised instead of rebuilt per full sync.
 *
 * Building it from the tables is the expensive part of a full sync at scale (50,000 API keys and
 * 10,000 virtual keys: about a second of PGlite). So the control plane keeps the last snapshot of
 * the orgs gateways sync from (in memory, per process) and in the `sync_snapshots` table (one row
 * per org: the snapshot and its revision, for other processes and cold Lambda containers), and
 * brings it to the org's current revision by applying the change log since it — the same log and
 * loaders that answer gateways' deltas — in one REPEATABLE READ transaction with the revision read.
 * A snapshot is therefore never served for a revision it does not hold: either it is exactly the
 * current revision, or it is rolled forward to it, or (the log does not cover the gap: pruned,
 * untracked change, too many changes) rebuilt from the tables.
 *
 * After a mutation made in this process the org's snapshot is rolled forward in the background
 * (debounced), so the next gateway's full sync finds it current. Persisting it is throttled: a
 * stored snapshot a few revisions old costs a reader only the rolled-forward delta.
 */

/** How many orgs' snapshots a process keeps in memory (least recently used go first). */
const REMEMBERED_ORGS = Math.max(1, Number(process.env.TOLLGATE_SYNC_SNAPSHOT_ORGS) || 4);
/** Background roll-forward after a mutation: debounced, so a burst of changes costs one. */
export const REFRESH_DEBOUNCE_MS = 150;
/** At most one stored-snapshot write per org and interval, after roll-forwards (a rebuild is stored at once). */
export const PERSIST_INTERVAL_MS = 30_000;

/**
 * The build that serialises snapshots: a stored snapshot is rolled forward only by the build that
 * wrote it. Another build may map rows to entries differently or ship other default prices, and
 * the change log would not list those entries as changed. Bump SNAPSHOT_FORMAT when the entry
 * mappers change within a version.
 */
const SNAPSHOT_FORMAT = 1;
let build: string | undefined;
export function snapshotBuild(): string {
  build ??= `${TOLLGATE_VERSION}/${SNAPSHOT_FORMAT}/${createHash('sha256').update(JSON.stringify(defaultPrices())).digest('base64url').slice(0, 16)}`;
  return build;
}

/** Every delta kind the control plane can merge itself (gateway features only gate what is sent). */
const ALL_FEATURES: ReadonlySet<string> = new Set(Object.values(DELTA_LOADERS).flatMap((l) => (l.requires ? [l.requires] : [])));

interface OrgSnapshot {
  snapshot?: SyncSnapshot;
  building?: Promise<Built | undefined>;
  persistedRevision?: number;
  persistedAt: number;
  persistTimer?: NodeJS.Timeout;
  persisting?: Promise<void>;
  refreshTimer?: NodeJS.Timeout;
}

/** How the last materialisation went: `rebuilt` from the tables, or rolled `forward` from memory or the stored row. */
export interface Built {
  snapshot: SyncSnapshot;
  source: 'current' | 'memory+log' | 'stored' | 'stored+log' | 'rebuilt';
  /** The revision of the stored row it started from, when it did. */
  storedRevision?: number;
}

const perDb = new WeakMap<SqlDatabase, Map<string, OrgSnapshot>>();
/** The databases holding materialised snapshots, to find them from a mutation (which only knows its org). */
const databases = new Set<WeakRef<SqlDatabase>>();

function orgSnapshot(db: SqlDatabase, organisationId: string): OrgSnapshot {
  let orgs = perDb.get(db);
  if (!orgs) {
    perDb.set(db, (orgs = new Map()));
    databases.add(new WeakRef(db));
  }
  let entry = orgs.get(organisationId);
  if (entry) orgs.delete(organisationId);
  else entry = { persistedAt: 0 };
  orgs.set(organisationId, entry);
  while (orgs.size > REMEMBERED_ORGS) {
    const [oldest, evicted] = orgs.entries().next().value!;
    clearTimeout(evicted.refreshTimer);
    clearTimeout(evicted.persistTimer);
    orgs.delete(oldest);
  }
  return entry;
}

/**
 * The org's full snapshot at its current revision (`revision`, when the caller just read it), or
 * `undefined` when the org does not exist. Concurrent callers share one materialisation.
 */
export async function buildSnapshot(db: SqlDatabase, organisationId: string, revision?: number): Promise<SyncSnapshot | undefined> {
  return (await materialise(db, organisationId, revision))?.snapshot;
}

export async function materialise(db: SqlDatabase, organisationId: string, revision?: number): Promise<Built | undefined> {
  const entry = orgSnapshot(db, organisationId);
  if (revision !== undefined && entry.snapshot?.version === revision) return { snapshot: entry.snapshot, source: 'current' };
  while (entry.building) {
    const built = await entry.building.catch(() => undefined);
    // A materialisation that finished after the caller read `revision` holds it or a later one.
    if (built && revision !== undefined && built.snapshot.version >= revision) return built;
  }
  // The entry is updated (and `building` cleared) as the build settles, before any awaiting caller
  // resumes: waiters re-check it, they never spin on a settled build.
  const building: Promise<Built | undefined> = rollForward(db, organisationId, entry)
    .then((built) => {
      if (built) {
        entry.snapshot = built.snapshot;
        if (built.storedRevision !== undefined) {
          entry.persistedRevision = built.storedRevision;
          entry.persistedAt = Date.now();
        }
      }
      return built;
    })
    .finally(() => {
      if (entry.building === building) entry.building = undefined;
    });
  entry.building = building;
  const built = await building;
  if (!built) return undefined;
  if (built.source === 'rebuilt') {
    // In Lambda, work after the answer may never run (the container is frozen): store it now so the
    // next cold container reads one row instead of rebuilding.
    if (process.env.AWS_LAMBDA_FUNCTION_NAME) await persist(db, organisationId, entry);
    else schedulePersist(db, organisationId, entry, 0);
  } else if (built.source !== 'current' && built.source !== 'stored') {
    schedulePersist(db, organisationId, entry, Math.max(0, entry.persistedAt + PERSIST_INTERVAL_MS - Date.now()));
  }
  return built;
}

async function rollForward(db: SqlDatabase, organisationId: string, entry: OrgSnapshot): Promise<Built | undefined> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await asApp(tx);
    await setTenant(tx, organisationId);
    const org = await tx.query<{ revision: string | number; sync_log_floor: string | number }>('SELECT revision, sync_log_floor FROM organisations WHERE id = $1', [organisationId]);
    if (!org.rows[0]) return undefined;
    const revision = Number(org.rows[0].revision);
    const floor = Number(org.rows[0].sync_log_floor);
    // A base outside [floor, revision] cannot be rolled forward: the log no longer covers it, or it is
    // from the future of a restored database.
    const usable = (s: SyncSnapshot | undefined): s is SyncSnapshot => s !== undefined && s.version >= floor && s.version <= revision;
    let base: SyncSnapshot | undefined = entry.snapshot;
    let storedRevision: number | undefined;
    if (!usable(base)) {
      base = await readStored(tx, organisationId, floor, revision);
      storedRevision = base?.version;
    }
    const stored = storedRevision !== undefined;
    if (base && base.version === revision) return { snapshot: base, source: stored ? 'stored' : 'current', storedRevision };
    if (base) {
      const changed = await changesSince(tx, organisationId, base.version, revision, ALL_FEATURES);
      if (changed.kind === 'changes') {
        const snapshot = mergeDelta(base, { version: revision, generated_at: new Date().toISOString(), upserts: changed.upserts, deletes: changed.deletes });
        return { snapshot, source: stored ? 'stored+log' : 'memory+log', storedRevision };
      }
    }
    return { snapshot: await readSnapshot(tx, organisationId, revision), source: 'rebuilt', storedRevision };
  });
}

async function readStored(tx: SqlQueryable, organisationId: string, floor: number, revision: number): Promise<SyncSnapshot | undefined> {
  const { rows } = await tx.query<{ revision: string | number; snapshot: string; parts: ChunkOffsets | string | null }>(
    'SELECT revision, snapshot, parts FROM sync_snapshots WHERE organisation_id = $1 AND revision BETWEEN $2 AND $3 AND built_by = $4',
    [organisationId, floor, revision, snapshotBuild()],
  );
  const row = rows[0];
  if (!row) return undefined;
  const snapshot = JSON.parse(row.snapshot) as SyncSnapshot;
  // The row's revision column is what the range check trusted; a body that disagrees is not used.
  if (snapshot.organisation_id !== organisationId || snapshot.version !== Number(row.revision)) return undefined;
  adoptSnapshotBody(snapshot, row.snapshot, typeof row.parts === 'string' ? (JSON.parse(row.parts) as ChunkOffsets) : row.parts);
  return snapshot;
}

function schedulePersist(db: SqlDatabase, organisationId: string, entry: OrgSnapshot, delayMs: number): void {
  if (entry.persistTimer) {
    if (delayMs > 0) return;
    clearTimeout(entry.persistTimer);
  }
  entry.persistTimer = setTimeout(() => {
    entry.persistTimer = undefined;
    void persist(db, organisationId, entry);
  }, delayMs);
  entry.persistTimer.unref();
}

/** Stores the entry's snapshot unless already stored; never replaces a newer stored one (another process's). */
async function persist(db: SqlDatabase, organisationId: string, entry: OrgSnapshot): Promise<void> {
  if (entry.persisting) await entry.persisting.catch(() => undefined);
  const snapshot = entry.snapshot;
  if (!snapshot || entry.persistedRevision === snapshot.version) return;
  const writing = db
    .transaction(async (tx) => {
      await asApp(tx);
      await setTenant(tx, organisationId);
      await tx.query(
        `INSERT INTO sync_snapshots (organisation_id, revision, snapshot, parts, built_by) VALUES ($1, $2, $3, $4::jsonb, $5)
         ON CONFLICT (organisation_id) DO UPDATE SET revision = EXCLUDED.revision, snapshot = EXCLUDED.snapshot, parts = EXCLUDED.parts, built_by = EXCLUDED.built_by, built_at = now()
         WHERE sync_snapshots.revision < EXCLUDED.revision
            OR sync_snapshots.built_by IS DISTINCT FROM EXCLUDED.built_by
            OR sync_snapshots.revision > (SELECT o.revision FROM organisations o WHERE o.id = EXCLUDED.organisation_id)`,
        [organisationId, snapshot.version, snapshotBody(snapshot), JSON.stringify(snapshotChunkOffsets(snapshot) ?? {}), snapshotBuild()],
      );
    })
    .then(() => {
      entry.persistedRevision = snapshot.version;
      entry.persistedAt = Date.now();
    })
    // Best effort: a failed write costs the next cold reader a longer roll-forward or a rebuild, never correctness.
    .catch(() => undefined);
  entry.persisting = writing;
  await writing;
  if (entry.persisting === writing) entry.persisting = undefined;
}

/**
 * A mutation of the org committed in this process: roll its materialised snapshot forward soon (in
 * the background, debounced), if a database here holds one, so the next full sync finds it current.
 */
export function noteOrgChanged(organisationId: string): void {
  for (const ref of databases) {
    const db = ref.deref();
    if (!db) {
      databases.delete(ref);
      continue;
    }
    const entry = perDb.get(db)?.get(organisationId);
    if (!entry?.snapshot) continue;
    clearTimeout(entry.refreshTimer);
    entry.refreshTimer = setTimeout(() => {
      entry.refreshTimer = undefined;
      // Failures (a closed database, a transient error) leave the next full sync to do it.
      materialise(db, organisationId).catch(() => undefined);
    }, REFRESH_DEBOUNCE_MS);
    entry.refreshTimer.unref();
  }
}

/** Forgets this process's materialised snapshots of a database (a closing control plane; tests simulating a new process). */
export function forgetMaterialised(db: SqlDatabase): void {
  for (const entry of perDb.get(db)?.values() ?? []) {
    clearTimeout(entry.refreshTimer);
    clearTimeout(entry.persistTimer);
  }
  perDb.delete(db);
}

/** Waits for this process's pending stored-snapshot writes of an org (tests, benches, shutdown). */
export async function flushMaterialised(db: SqlDatabase, organisationId: string): Promise<void> {
  const entry = perDb.get(db)?.get(organisationId);
  if (!entry) return;
  if (entry.building) await entry.building.catch(() => undefined);
  if (entry.persistTimer) {
    clearTimeout(entry.persistTimer);
    entry.persistTimer = undefined;
  }
  await persist(db, organisationId, entry);
}

/**
 * After a deploy, every stored snapshot was written by the previous build and cannot be rolled
 * forward (snapshotBuild): the first full sync of each org would rebuild it from the tables (about
 * 2 s at the issue-5 scale). This rebuilds and stores them up front — at the deploy-time migration
 * in AWS, in the background at start-up locally — within `budgetMs`; orgs left over rebuild on
 * their next full sync as before. Only orgs with a stored snapshot (gateways sync from them) count.
 */
export async function refreshStaleSnapshots(
  db: SqlDatabase,
  opts: { budgetMs?: number; signal?: AbortSignal; onProgress?: (done: number, total: number, organisationId: string) => void } = {},
): Promise<{ refreshed: string[]; remaining: number }> {
  const deadline = Date.now() + (opts.budgetMs ?? 60_000);
  const orgs = await asPlatform(db, async (tx) => (await tx.query<{ id: string }>('SELECT id FROM organisations ORDER BY updated_at DESC, id')).rows.map((r) => r.id));
  const stale: string[] = [];
  for (const id of orgs) {
    if (opts.signal?.aborted) break;
    const { rows } = await db.transaction(async (tx) => {
      await asApp(tx);
      await setTenant(tx, id);
      return tx.query<{ built_by: string | null }>('SELECT built_by FROM sync_snapshots WHERE organisation_id = $1', [id]);
    });
    if (rows[0] && rows[0].built_by !== snapshotBuild()) stale.push(id);
  }
  const refreshed: string[] = [];
  for (const id of stale) {
    if (Date.now() > deadline || opts.signal?.aborted) break;
    await materialise(db, id);
    await flushMaterialised(db, id);
    refreshed.push(id);
    opts.onProgress?.(refreshed.length, stale.length, id);
  }
  return { refreshed, remaining: stale.length - refreshed.length };
}
