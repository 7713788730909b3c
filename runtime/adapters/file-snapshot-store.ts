import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Keyring } from '../core/keyring.js';
import type { SnapshotStore } from '../core/ports.js';

export interface FileSnapshotStoreOptions {
  path: string;
  /** The gateway's keyring: the whole file is an Encryption SDK message, not only the secrets in it. */
  keyring: Keyring;
}

const CONTEXT = { tollgate_purpose: 'gateway-snapshot' };

/**
 * The gateway's last good snapshot on disk, for deployments without Redis: envelope-encrypted as a
 * whole with the gateway's keyring, written atomically (temp file + rename), mode 0600.
 */
export function fileSnapshotStore(opts: FileSnapshotStoreOptions): SnapshotStore {
  return {
    kind: `file:${opts.path}`,
    async load() {
      let sealed: string;
      try {
        sealed = await readFile(opts.path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      return (await opts.keyring.decrypt(sealed.trim(), CONTEXT)).toString('utf8');
    },
    async save(data) {
      const sealed = await opts.keyring.encrypt(data, CONTEXT);
      await mkdir(dirname(opts.path), { recursive: true, mode: 0o700 });
      const tmp = `${opts.path}.${process.pid}.tmp`;
      await writeFile(tmp, sealed, { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, opts.path);
    },
  };
}
