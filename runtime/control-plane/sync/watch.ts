import type { SqlDatabase } from '../../core/db.js';

/**
 * Long-poll support for `GET /v1/sync/wait`. Waiting gateways of one process share one poller per
 * database: every `TOLLGATE_SYNC_POLL_MS` (default 250 ms) it reads the revisions of the orgs
 * someone waits on, in one query, and wakes the waiters whose org moved. A mutation made in this
 * process also nudges the poller at once (a few short re-checks, since the mutation's transaction
 * may commit a moment after `mutateOrg` returns).
 *
 * In Lambda one invocation is one waiter, and a mutation runs in another invocation, so only the
 * 250 ms poll wakes it: the change reaches the gateway within about 250 ms plus one sync. Each
 * waiting gateway holds one invocation for up to the wait timeout (25 s, under API Gateway's 30 s).
 */
interface Waiter {
  since: number;
  resolve(revision: number | undefined): void;
  reject(err: Error): void;
}

export const DEFAULT_POLL_MS = 250;

class RevisionWatcher {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly db: SqlDatabase,
    private readonly pollMs: number,
  ) {}

  wait(organisationId: string, since: number, timeoutMs: number): Promise<number | undefined> {
    return new Promise<number | undefined>((resolve, reject) => {
      let set = this.waiters.get(organisationId);
      if (!set) this.waiters.set(organisationId, (set = new Set()));
      const done = () => {
        clearTimeout(timeout);
        set!.delete(waiter);
        if (set!.size === 0) this.waiters.delete(organisationId);
        if (this.waiters.size === 0) this.stop();
      };
      const waiter: Waiter = {
        since,
        resolve: (rev) => {
          done();
          resolve(rev);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      const timeout = setTimeout(() => waiter.resolve(undefined), timeoutMs);
      set.add(waiter);
      this.start();
    });
  }

  nudge(): void {
    if (this.waiters.size === 0) return;
    for (const ms of [5, 40, 120]) setTimeout(() => void this.poll(), ms).unref();
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling || this.waiters.size === 0) return;
    this.polling = true;
    try {
      const orgs = [...this.waiters.keys()];
      const { rows } = await this.db.query<{ id: string; revision: string | number | null }>(
        'SELECT o AS id, tollgate_org_revision(o) AS revision FROM unnest($1::text[]) AS o',
        [orgs],
      );
      for (const row of rows) {
        const revision = row.revision === null ? undefined : Number(row.revision);
        for (const waiter of [...(this.waiters.get(row.id) ?? [])]) {
          if (revision === undefined || revision !== waiter.since) waiter.resolve(revision);
        }
      }
    } catch (err) {
      for (const set of [...this.waiters.values()]) for (const waiter of [...set]) waiter.reject(err as Error);
    } finally {
      this.polling = false;
    }
  }
}

const watchers = new Map<SqlDatabase, RevisionWatcher>();

function pollMs(): number {
  const n = Number(process.env.TOLLGATE_SYNC_POLL_MS);
  return Number.isFinite(n) && n >= 10 ? n : DEFAULT_POLL_MS;
}

/** Resolves with the org's revision once it differs from `since`, or `undefined` at the timeout. */
export function waitForRevision(db: SqlDatabase, organisationId: string, since: number, timeoutMs: number): Promise<number | undefined> {
  let watcher = watchers.get(db);
  if (!watcher) watchers.set(db, (watcher = new RevisionWatcher(db, pollMs())));
  return watcher.wait(organisationId, since, timeoutMs);
}

/** A mutation happened in this process: waiters re-check now rather than at the next poll. */
export function nudgeRevisionWatchers(): void {
  // TOLLGATE_SYNC_NUDGE=0 turns the in-process wake off: the poll alone then wakes waiters, as in Lambda.
  if (process.env.TOLLGATE_SYNC_NUDGE === '0') return;
  for (const watcher of watchers.values()) watcher.nudge();
}

/** For a closing control plane: its database goes away. */
export function forgetRevisionWatcher(db: SqlDatabase): void {
  watchers.delete(db);
}
