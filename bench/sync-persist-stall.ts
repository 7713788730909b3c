/**
 * How long the gateway's event loop stalls while it persists its snapshot copy for restarts, at the
 * #5 scale (50,000 API keys, 10,000 virtual keys, 1,000 configs; ~20 MB of JSON).
 *
 * `before` is the v1 persist (the whole body stringified, signed, then escaped into a second JSON
 * string, all synchronous): its stall is its whole run. `now` is encodePersistedSnapshot (per-array
 * chunks cached across deltas, serialised and signed in yielding slices): its stall is the worst
 * lateness of a 1 ms timer while it runs. Cases: a cold copy (first persist after start), and the
 * persist after a one-config delta and after a one-API-key delta.
 *
 *   node bin/run-ts.mjs bench/sync-persist-stall.ts
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import type { SyncSnapshot } from '../runtime/core/sync-contract.js';
import { deriveSyncKey, signBody } from '../runtime/core/sync-integrity.js';
import { mergeDelta } from '../runtime/core/sync-merge.js';
import { encodePersistedSnapshot } from '../runtime/gateway/sync/persisted-snapshot.js';
import { median } from './lib/stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS) || 5;
const key = deriveSyncKey('f'.repeat(64), 'cache');
const limits = { rate_limits: null, usage_limits: null };

function seed(): SyncSnapshot {
  const b64 = (n: number) => randomBytes(n).toString('base64');
  return {
    organisation_id: 'org-bench',
    version: 1,
    generated_at: new Date().toISOString(),
    api_keys: Array.from({ length: 50_000 }, (_, i) => ({ id: `ak_${i}`, key_hash: randomBytes(32).toString('hex'), workspace_id: `ws_${i % 20}`, type: 'service', scopes: ['completions.write', 'logs.read'], status: 'active', expires_at: null, defaults: i % 5 ? null : { metadata: { team: `t${i % 50}` } }, ...limits })),
    virtual_keys: Array.from({ length: 10_000 }, (_, i) => ({ id: `vk_${i}`, slug: `vk-${i}`, workspace_id: `ws_${i % 20}`, provider: 'openai', encrypted_key: b64(560), status: 'active', options: { custom_host: null }, ...limits })),
    configs: Array.from({ length: 1_000 }, (_, i) => ({ id: `cfg_${i}`, slug: `cfg-${i}`, workspace_id: `ws_${i % 20}`, version: 1, config: { strategy: { mode: 'fallback' }, targets: [{ virtual_key: `vk-${i}` }, { virtual_key: `vk-${i + 1}` }], retry: { attempts: 2 } } })),
    prompts: [],
    guardrails: [],
    pricing: [],
  } as unknown as SyncSnapshot;
}

function persistV1(snapshot: SyncSnapshot): string {
  const body = JSON.stringify({ ...snapshot, protocol: 2, kind: 'full' });
  return JSON.stringify({ format: 'tollgate.snapshot.v1', version: snapshot.version, synced_at: null, signature: signBody(key, body), body });
}

/** Worst lateness of a 1 ms timer while `work` runs, and the work's wall time. */
async function stall(work: () => Promise<unknown>): Promise<{ worstMs: number; wallMs: number }> {
  let worst = 0;
  let expected = performance.now() + 1;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - expected);
    expected = now + 1;
  }, 1);
  await new Promise((r) => setTimeout(r, 5));
  worst = 0;
  expected = performance.now() + 1;
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 3));
  clearInterval(timer);
  return { worstMs: worst, wallMs };
}

const rows: Record<string, { v1: number[]; stall: number[]; wall: number[] }> = {};
const record = (name: string, v1: number, s: { worstMs: number; wallMs: number }) => {
  const r = (rows[name] ??= { v1: [], stall: [], wall: [] });
  r.v1.push(v1);
  r.stall.push(s.worstMs);
  r.wall.push(s.wallMs);
};
const timeV1 = (s: SyncSnapshot) => {
  const t0 = performance.now();
  persistV1(s);
  return performance.now() - t0;
};

let size = 0;
for (let round = 0; round < ROUNDS; round++) {
  const base = seed();
  const cold = timeV1(base);
  let encoded = '';
  record('cold copy', cold, await stall(async () => (encoded = await encodePersistedSnapshot(key, base, null))));
  size = encoded.length;
  const config = mergeDelta(base, { version: 2, generated_at: new Date().toISOString(), upserts: { configs: [{ ...(base.configs[0] as object), version: 2 }] }, deletes: {} });
  record('after a one-config delta', timeV1(config), await stall(() => encodePersistedSnapshot(key, config, null)));
  const apiKey = mergeDelta(config, { version: 3, generated_at: new Date().toISOString(), upserts: {}, deletes: { api_keys: ['ak_7'] } });
  record('after a one-API-key delta', timeV1(apiKey), await stall(() => encodePersistedSnapshot(key, apiKey, null)));
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}

const fmt = (n: number) => n.toFixed(1);
console.log(`\nsnapshot copy ${(size / 1e6).toFixed(1)} MB, ${ROUNDS} rounds, medians; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}\n`);
console.log('| persist | v1: event loop blocked (ms) | now: worst timer lateness (ms) | now: wall (ms) |');
console.log('|---|---|---|---|');
for (const [name, r] of Object.entries(rows)) console.log(`| ${name} | ${fmt(median(r.v1))} | ${fmt(median(r.stall))} | ${fmt(median(r.wall))} |`);
