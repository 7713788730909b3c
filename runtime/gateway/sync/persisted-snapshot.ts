import { snapshotBodyPartsYielding } from '../../core/snapshot-body.js';
import type { SyncSnapshot } from '../../core/sync-contract.js';
import { signPartsYielding, verifyBody } from '../../core/sync-integrity.js';

/**
 * The gateway's persisted copy of its snapshot (the Redis value, or the decrypted file), signed with
 * the credential's cache key so a tampered or foreign entry is refused at restore.
 *
 * v2 is a header line and the snapshot body after it, so the body is never escaped into a JSON
 * string (v1 built the 20 MB body and then a second, escaped copy of it, both on the event loop).
 * The signature covers `synced_at` too: a writable cache cannot make a stale copy look fresh.
 * v1 is still read, so a gateway upgraded in place restores what the old version wrote.
 */
const V2 = 'tollgate.snapshot.v2';
const V1 = 'tollgate.snapshot.v1';

interface Header {
  version: number;
  synced_at: string | null;
  signature: string;
}

export interface RestoredSnapshot {
  /** The snapshot body, verified, to parse as a full sync answer. */
  body: string;
  syncedAt: string | null;
}

const signed = (syncedAt: string | null, body: string) => `${syncedAt ?? ''}\n${body}`;

/** Serialises and signs in slices, yielding to in-flight requests between them. */
export async function encodePersistedSnapshot(cacheKey: Buffer, snapshot: SyncSnapshot, syncedAt: string | null): Promise<string> {
  const parts = await snapshotBodyPartsYielding(snapshot);
  const signature = await signPartsYielding(cacheKey, [`${syncedAt ?? ''}\n`, ...parts]);
  const header: Header = { version: snapshot.version, synced_at: syncedAt, signature };
  return `${V2}\n${JSON.stringify(header)}\n${parts.join('')}`;
}

/** Verifies a persisted copy; throws with the reason it cannot be used. */
export function decodePersistedSnapshot(cacheKey: Buffer, raw: string): RestoredSnapshot {
  if (raw.startsWith(`${V2}\n`)) {
    const headerEnd = raw.indexOf('\n', V2.length + 1);
    if (headerEnd < 0) throw new Error('it is truncated');
    const header = JSON.parse(raw.slice(V2.length + 1, headerEnd)) as Header;
    const body = raw.slice(headerEnd + 1);
    const syncedAt = typeof header.synced_at === 'string' ? header.synced_at : null;
    if (!verifyBody(cacheKey, signed(syncedAt, body), header.signature)) throw new Error('its signature does not match this data-plane credential');
    return { body, syncedAt };
  }
  const legacy = JSON.parse(raw) as { format?: unknown; body?: unknown; signature?: string; synced_at?: string | null };
  if (legacy.format !== V1 || typeof legacy.body !== 'string') throw new Error(`unknown format ${String(legacy.format).slice(0, 40)}`);
  if (!verifyBody(cacheKey, legacy.body, legacy.signature)) throw new Error('its signature does not match this data-plane credential');
  return { body: legacy.body, syncedAt: legacy.synced_at ?? null };
}
