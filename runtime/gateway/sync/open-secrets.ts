import type { GatewayConfig } from '../../core/config-schema.js';
import type { GatewayState } from './gateway-state.js';
import type { SealedSecret } from './sealed-secret.js';

/** Configs whose virtual keys were all open in a state: the common request skips the tree walk. */
const allOpen = new WeakMap<GatewayState, WeakSet<GatewayConfig>>();

/**
 * Opens the provider keys a route needs before it is planned. Returns undefined, synchronously,
 * when they are all open already (every request after the first); otherwise a promise that
 * rejects with a 503 HttpProblem when one does not decrypt. Virtual keys of other workspaces and
 * unknown slugs are left alone: planning answers those with a 400.
 */
export function openSecrets(state: GatewayState, config: GatewayConfig, workspaceId: string | null | undefined): Promise<unknown> | undefined {
  const known = allOpen.get(state);
  if (known?.has(config)) return undefined;
  const waits: Promise<string>[] = [];
  collect(state, config, workspaceId, waits);
  if (waits.length === 0) {
    if (known) known.add(config);
    else allOpen.set(state, new WeakSet([config]));
    return undefined;
  }
  return Promise.all(waits);
}

function collect(state: GatewayState, config: GatewayConfig, workspaceId: string | null | undefined, out: Promise<string>[]): void {
  if (config.virtual_key) {
    const vk = state.virtualKeys.get(config.virtual_key);
    if (vk && (!workspaceId || vk.workspaceId === workspaceId)) {
      const opened = vk.secret.open();
      if (typeof opened !== 'string') out.push(opened);
    }
  }
  for (const child of config.targets ?? []) collect(state, child, workspaceId, out);
}

export interface PrewarmOptions {
  /** Secrets opened per slice before yielding to the event loop (default 8: ~4 ms of CPU with the local keyring). */
  slice?: number;
  /** Stop early, e.g. when a newer state replaced this one or the client closes. */
  cancelled?: () => boolean;
}

/**
 * Opens every sealed secret in the background, a few at a time, yielding to the event loop
 * between slices so requests keep being served while it runs. Failures are left for first use to
 * report (the secret remembers them); returns how many were opened.
 */
export async function prewarmSecrets(secrets: Iterable<SealedSecret>, opts: PrewarmOptions = {}): Promise<number> {
  const slice = Math.max(1, opts.slice ?? 8);
  let opened = 0;
  let batch: Promise<unknown>[] = [];
  for (const secret of secrets) {
    if (opts.cancelled?.()) break;
    if (secret.ready) continue;
    const result = secret.open();
    if (typeof result !== 'string') batch.push(result.then(() => opened++, () => undefined));
    if (batch.length >= slice) {
      await Promise.all(batch);
      batch = [];
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  await Promise.all(batch);
  return opened;
}
