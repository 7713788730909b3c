import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Portkey } from 'portkey-ai';
import { localKeyring } from '../../runtime/adapters/local-keyring.js';
import type { Keyring } from '../../runtime/core/keyring.js';
import { silentLogger } from '../../runtime/core/logger.js';
import { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from '../../runtime/control-plane/server.js';

export interface TestControlPlane {
  cp: RunningControlPlane;
  keyring: Keyring;
  /** The unmodified portkey-ai SDK, pointed at this control plane with the admin key. */
  sdk: Portkey;
  sdkWith(apiKey: string): Portkey;
  /** Raw fetch against the control plane with the admin key unless headers say otherwise. */
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

export async function tempDir(prefix = 'tollgate-cp-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function startTestControlPlane(
  opts: Partial<ControlPlaneOptions> & { keyringFile: string },
): Promise<TestControlPlane> {
  const keyring = opts.keyring ?? (await localKeyring(opts.keyringFile));
  const cp = await startControlPlane({ logger: silentLogger, ...opts, port: 0, keyring });
  const sdkWith = (apiKey: string) => new Portkey({ apiKey, baseURL: `${cp.url}/v1` });
  return {
    cp,
    keyring,
    sdk: sdkWith(cp.adminApiKey),
    sdkWith,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('x-portkey-api-key') && !headers.has('authorization')) headers.set('x-portkey-api-key', cp.adminApiKey);
      let body = init.body;
      if (init.json !== undefined) {
        body = JSON.stringify(init.json);
        headers.set('content-type', 'application/json');
      }
      return fetch(`${cp.url}${path}`, { ...init, headers, body });
    },
  };
}

/** Records everything written to stdout/stderr (console included) while `fn` runs. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ value: T; output: string }> {
  const chunks: string[] = [];
  const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const record = (original: typeof process.stdout.write) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
  process.stdout.write = record(originals.out);
  process.stderr.write = record(originals.err);
  try {
    const value = await fn();
    return { value, output: chunks.join('') };
  } finally {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
  }
}
