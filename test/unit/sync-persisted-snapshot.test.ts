import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { snapshotBody, snapshotBodyPartsYielding, snapshotChunkOffsets } from '../../runtime/core/snapshot-body.js';
import type { SyncSnapshot } from '../../runtime/core/sync-contract.js';
import { mergeDelta } from '../../runtime/core/sync-merge.js';
import { deriveSyncKey, signBody, signPartsYielding } from '../../runtime/core/sync-integrity.js';
import { decodePersistedSnapshot, encodePersistedSnapshot } from '../../runtime/gateway/sync/persisted-snapshot.js';

const key = deriveSyncKey('a'.repeat(64), 'cache');
const otherKey = deriveSyncKey('b'.repeat(64), 'cache');

/** A snapshot big enough that the yielding serialiser takes several slices. */
function snapshot(version = 7): SyncSnapshot {
  const api_keys = Array.from({ length: 20_000 }, (_, i) => ({ id: `ak-${i}`, hash: `h${i}`.padEnd(64, '0'), status: 'active', scopes: ['completions.write'], note: i % 997 === 0 ? 'emoji 😀 and "quotes"\n' : undefined }));
  return {
    organisation_id: 'org-1',
    version,
    generated_at: '2026-11-27T18:00:00.000Z',
    api_keys,
    configs: [{ id: 'c1', slug: 'main', version: 3, config: { retry: { attempts: 2 } } }],
    virtual_keys: [],
  } as unknown as SyncSnapshot;
}

describe('snapshot body', () => {
  it('serialises to the same JSON as stringifying the full answer at once, blocking or yielding', async () => {
    const s = snapshot();
    const expected = JSON.stringify({ ...s, protocol: 2, kind: 'full' });
    expect((await snapshotBodyPartsYielding(snapshot(), 0)).join('')).toBe(expected);
    expect(snapshotBody(s)).toBe(expected);
    expect(JSON.parse(expected).api_keys[997].note).toBe('emoji 😀 and "quotes"\n');
  });

  it('re-serialises only the arrays a merged delta changed', async () => {
    const base = snapshot(1);
    await snapshotBodyPartsYielding(base);
    const next = mergeDelta(base, { version: 2, generated_at: '2026-11-27T18:01:00.000Z', upserts: { configs: [{ id: 'c1', slug: 'main', version: 4, config: {} }] }, deletes: {} });
    expect(next.api_keys).toBe(base.api_keys);
    const body = (await snapshotBodyPartsYielding(next)).join('');
    expect(body).toBe(JSON.stringify({ ...next, protocol: 2, kind: 'full' }));
    expect(JSON.parse(body).configs[0].version).toBe(4);
  });
});

describe('persisted gateway snapshot', () => {
  it('signs parts in slices exactly as signing their concatenation, including surrogate pairs split on a slice or part edge', async () => {
    const onSliceEdge = `${'x'.repeat(1_048_575)}😀${'y'.repeat(10)}`;
    expect(await signPartsYielding(key, [onSliceEdge])).toBe(signBody(key, onSliceEdge));
    const parts = ['ab\ud83d', '\ude00cd', 'é', ''];
    expect(await signPartsYielding(key, parts)).toBe(signBody(key, parts.join('')));
    // The parts really split a pair: hashing them one by one without the carry gives another signature.
    const naive = parts.reduce((h, p) => h.update(p, 'utf8'), createHmac('sha256', key)).digest('base64url');
    expect(`hmac-sha256=${naive}`).not.toBe(signBody(key, parts.join('')));
  });

  it('round-trips, and refuses a foreign key, a changed body or a changed sync time', async () => {
    const s = snapshot();
    const raw = await encodePersistedSnapshot(key, s, '2026-11-27T18:00:05.000Z');
    expect(raw.startsWith('tollgate.snapshot.v2\n')).toBe(true);
    const restored = decodePersistedSnapshot(key, raw);
    expect(restored.syncedAt).toBe('2026-11-27T18:00:05.000Z');
    expect(JSON.parse(restored.body)).toMatchObject({ organisation_id: 'org-1', version: 7, kind: 'full', protocol: 2 });

    expect(() => decodePersistedSnapshot(otherKey, raw)).toThrow(/signature does not match/);
    expect(() => decodePersistedSnapshot(key, raw.replace('"ak-5"', '"ak-X"'))).toThrow(/signature does not match/);
    expect(() => decodePersistedSnapshot(key, raw.replace('2026-11-27T18:00:05.000Z', '2026-12-01T00:00:00.000Z'))).toThrow(/signature does not match/);
    expect(() => decodePersistedSnapshot(key, 'tollgate.snapshot.v2\n{"version":1')).toThrow(/truncated/);
    expect(() => decodePersistedSnapshot(key, '{"format":"something-else"}')).toThrow(/unknown format/);
  });

  it('still restores what a gateway of the previous version wrote (v1)', () => {
    const body = JSON.stringify({ ...snapshot(), protocol: 2, kind: 'full' });
    const v1 = JSON.stringify({ format: 'tollgate.snapshot.v1', version: 7, synced_at: '2026-11-27T17:00:00.000Z', signature: signBody(key, body), body });
    expect(decodePersistedSnapshot(key, v1)).toEqual({ body, syncedAt: '2026-11-27T17:00:00.000Z' });
    expect(() => decodePersistedSnapshot(otherKey, v1)).toThrow(/signature does not match/);
  });
});

describe('chunk offsets', () => {
  it('frame each array in the body, so a reader of a stored body can adopt them', () => {
    const s = snapshot();
    const body = snapshotBody(s);
    const at = snapshotChunkOffsets(s)!;
    for (const field of ['api_keys', 'configs', 'virtual_keys']) {
      const [start, end] = at[field]!;
      expect(body.slice(start, end)).toBe(JSON.stringify((s as Record<string, unknown>)[field]));
    }
  });
});
