import type { SyncSnapshot } from './sync-contract.js';

/**
 * The serialised protocol-2 body of a full snapshot, shared by both planes: the control plane
 * answers full syncs and stores its materialised snapshot with it, the gateway persists its copy
 * for restarts with it.
 *
 * Serialising 20 MB costs a few hundred ms, so the body is assembled from one serialised chunk per
 * top-level value, cached by that value: a merged delta keeps the arrays it did not touch
 * (`mergeDelta`), so after a config change only the configs are serialised again.
 */
const bodies = new WeakMap<SyncSnapshot, string>();
const chunks = new WeakMap<object, string>();
/** Where each array's chunk sits in the body: a reader of a stored body re-serialises only what changed since. */
export type ChunkOffsets = Record<string, [number, number]>;
const offsets = new WeakMap<SyncSnapshot, ChunkOffsets>();

/**
 * Walks the snapshot's fields, asking the driver for each uncached value's chunk (the yielded value),
 * and returns the body's parts in order. One walk serves the blocking and the yielding driver.
 */
function* assemble(snapshot: SyncSnapshot): Generator<unknown, string[], string> {
  const parts: string[] = [];
  const at: ChunkOffsets = {};
  let length = 0;
  for (const [field, value] of Object.entries({ ...snapshot, protocol: 2, kind: 'full' })) {
    if (value === undefined) continue;
    const cacheable = typeof value === 'object' && value !== null;
    let chunk = cacheable ? chunks.get(value) : undefined;
    if (chunk === undefined) {
      chunk = yield value;
      if (cacheable) chunks.set(value, chunk);
    }
    const key = `${parts.length ? ',' : '{'}${JSON.stringify(field)}:`;
    if (Array.isArray(value)) at[field] = [length + key.length, length + key.length + chunk.length];
    length += key.length + chunk.length;
    parts.push(key, chunk);
  }
  parts.push(parts.length ? '}' : '{}');
  offsets.set(snapshot, at);
  return parts;
}

/** The body, serialised at once: for request handlers that answer with it right away. */
export function snapshotBody(snapshot: SyncSnapshot): string {
  let body = bodies.get(snapshot);
  if (body !== undefined) return body;
  const walk = assemble(snapshot);
  let step = walk.next();
  while (!step.done) step = walk.next(JSON.stringify(step.value));
  bodies.set(snapshot, (body = step.value.join('')));
  return body;
}

/**
 * The body's parts in order (their concatenation is `snapshotBody(snapshot)`), serialised in slices
 * with the event loop let through between them: for the gateway, whose in-flight requests must not
 * wait behind a 20 MB snapshot. The parts are not joined, so a caller can hash or write them one by one.
 */
export async function snapshotBodyPartsYielding(snapshot: SyncSnapshot, sliceMs = 4): Promise<string[]> {
  const cached = bodies.get(snapshot);
  if (cached !== undefined) return [cached];
  const walk = assemble(snapshot);
  let step = walk.next();
  while (!step.done) {
    const value = step.value;
    step = walk.next(Array.isArray(value) ? await stringifyArrayYielding(value, sliceMs) : JSON.stringify(value));
  }
  return step.value;
}

/** Elements per `JSON.stringify` call: small enough to yield often, large enough to keep the native fast path. */
const BATCH = 256;

/** `JSON.stringify(array)` in batches, letting the event loop run once a slice has used `sliceMs`. */
async function stringifyArrayYielding(array: readonly unknown[], sliceMs: number): Promise<string> {
  const batches: string[] = [];
  let sliceStart = performance.now();
  for (let i = 0; i < array.length; i += BATCH) {
    batches.push(JSON.stringify(array.slice(i, i + BATCH)).slice(1, -1));
    if (performance.now() - sliceStart > sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return `[${batches.join(',')}]`;
}

/** Where the arrays sit in `snapshotBody(snapshot)`, once it was built. */
export function snapshotChunkOffsets(snapshot: SyncSnapshot): ChunkOffsets | undefined {
  return offsets.get(snapshot);
}

/**
 * Adopts the stored body a snapshot was parsed from (`JSON.parse(body)`, unchanged), and seeds the
 * chunk cache from its offsets, checking each offset frames an array.
 */
export function adoptSnapshotBody(snapshot: SyncSnapshot, body: string, at: ChunkOffsets | null | undefined): void {
  bodies.set(snapshot, body);
  if (!at) return;
  offsets.set(snapshot, at);
  for (const [field, [start, end]] of Object.entries(at)) {
    const value = (snapshot as Record<string, unknown>)[field];
    if (!Array.isArray(value) || end > body.length || body[start] !== '[' || body[end - 1] !== ']') continue;
    chunks.set(value, body.slice(start, end));
  }
}
