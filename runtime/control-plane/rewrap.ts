import type { SqlDatabase } from '../core/db.js';
import { virtualKeyContext } from '../core/keyring.js';
import { sealingKeyring } from './byok.js';
import type { ControlPlaneContext } from './context.js';
import { withTenant } from './db/tenant.js';
import { finishOrgMutation } from './sync/change-log.js';
import { nudgeRevisionWatchers } from './sync/watch.js';

/**
 * Key rotation, step 3: re-wraps every virtual-key secret of one organisation under the current key.
 *
 * Rows are read in id order, `batchSize` at a time (keyset, so rows added meanwhile are not skipped
 * or read twice). Each row: decrypt with the keyring (which opens messages of any key it knows),
 * seal again with the org's sealing keyring (the current platform key, or the org's BYOK key), and
 * write it in its **own** transaction, `WHERE version = <read> AND encrypted_key = <read>`. A concurrent
 * edit (a PUT that rotated the secret or renamed the key) changes one of them; the UPDATE then matches
 * nothing, and the row is read again and the edit's ciphertext re-wrapped instead — never overwritten
 * with the old secret. The re-wrap itself does not bump `version` (the object the API shows is
 * unchanged, so a client's `If-Match` stays valid); each written row bumps the org's sync revision
 * (the change-log trigger records it as a virtual-key delta), so gateways fetch the new ciphertexts.
 *
 * Rows the control plane cannot open (sealed with a customer's BYOK key, which it may not decrypt,
 * or with a key no longer in the keyring) are left as they are and listed in `not_decryptable`.
 *
 * `timeBudgetMs` bounds one call (API Gateway answers after 29 s); a call that runs out returns
 * `done: false` and `next_after`, and the next call passes it as `after`. Re-running is harmless.
 */
export interface RewrapOptions {
  batchSize?: number;
  after?: string;
  timeBudgetMs?: number;
  /** Attempts per row when concurrent edits keep winning. */
  maxAttempts?: number;
}

export interface RewrapResult {
  rewrapped: number;
  /** Rows whose conditional write lost to a concurrent edit and were re-read and re-wrapped. */
  retried: number;
  not_decryptable: { slug: string; reason: string }[];
  /** Rows opened but not sealed again (the sealing key refused), left as they are. */
  not_sealable: { slug: string; reason: string }[];
  /** Rows that kept changing under the re-wrap (after `maxAttempts`); run it again. */
  contended: string[];
  done: boolean;
  next_after: string | null;
}

interface Row {
  id: string;
  slug: string;
  workspace_id: string;
  encrypted_key: string;
  version: number;
}

export async function rewrapVirtualKeys(
  ctx: ControlPlaneContext,
  organisationId: string,
  opts: RewrapOptions = {},
): Promise<RewrapResult> {
  const { db, keyring } = ctx;
  const batchSize = opts.batchSize ?? 100;
  const maxAttempts = opts.maxAttempts ?? 5;
  const deadline = Date.now() + (opts.timeBudgetMs ?? 20_000);
  const result: RewrapResult = { rewrapped: 0, retried: 0, not_decryptable: [], not_sealable: [], contended: [], done: false, next_after: null };
  const sealer = await withTenant(db, organisationId, (scoped) => sealingKeyring(ctx, scoped, organisationId));
  let after = opts.after ?? '';

  for (;;) {
    const batch = await withTenant(db, organisationId, async (scoped) =>
      (
        await scoped.query<Row>(
          'SELECT id, slug, workspace_id, encrypted_key, version FROM virtual_keys WHERE organisation_id = $1 AND id > $2 ORDER BY id LIMIT $3',
          [organisationId, after, batchSize],
        )
      ).rows,
    );
    if (batch.length === 0) {
      result.done = true;
      return result;
    }
    for (const first of batch) {
      let row: Row | undefined = first;
      for (let attempt = 1; row; attempt++) {
        if (attempt > maxAttempts) {
          result.contended.push(row.slug);
          break;
        }
        const context = virtualKeyContext(organisationId, row.workspace_id, row.slug);
        let plaintext: Buffer;
        try {
          plaintext = await keyring.decrypt(row.encrypted_key, context);
        } catch (err) {
          result.not_decryptable.push({ slug: row.slug, reason: (err as Error).message });
          break;
        }
        let sealed: string;
        try {
          sealed = await sealer.encrypt(plaintext, context);
        } catch (err) {
          // E.g. a BYOK org whose key this function holds no seal grant on: left as it is, reported.
          result.not_sealable.push({ slug: row.slug, reason: (err as Error).message });
          break;
        } finally {
          plaintext.fill(0);
        }
        const written = await writeIfUnchanged(db, organisationId, row, sealed);
        if (written) {
          result.rewrapped++;
          break;
        }
        result.retried++;
        row = await withTenant(db, organisationId, async (scoped) =>
          (
            await scoped.query<Row>('SELECT id, slug, workspace_id, encrypted_key, version FROM virtual_keys WHERE organisation_id = $1 AND id = $2', [
              organisationId,
              first.id,
            ])
          ).rows[0],
        );
      }
      after = first.id;
      if (Date.now() > deadline) {
        result.next_after = after;
        return result;
      }
    }
  }
}

/** One row, one transaction: the org lock (as every mutation takes it), the conditional write, the revision. */
async function writeIfUnchanged(db: SqlDatabase, organisationId: string, row: Row, sealed: string): Promise<boolean> {
  const written = await withTenant(db, organisationId, (scoped) =>
    scoped.transaction(async (tx) => {
      await tx.query('SELECT id FROM organisations WHERE id = $1 FOR UPDATE', [organisationId]);
      const { rows } = await tx.query(
        'UPDATE virtual_keys SET encrypted_key = $3 WHERE organisation_id = $1 AND id = $2 AND version = $4 AND encrypted_key = $5 RETURNING id',
        [organisationId, row.id, sealed, row.version, row.encrypted_key],
      );
      if (rows.length === 0) return false;
      await finishOrgMutation(tx, organisationId);
      return true;
    }),
  );
  if (written) nudgeRevisionWatchers();
  return written;
}
