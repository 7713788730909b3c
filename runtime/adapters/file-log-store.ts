import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { LogStore } from '../core/ports.js';

/** Logs as one JSON file per request under a root folder; keys are validated so none escapes the root. */
export function fileLogStore(root: string): LogStore {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const full = resolve(join(base, key));
    if (!full.startsWith(base + sep)) throw new Error(`log key escapes the log store: ${key}`);
    return full;
  };
  // Logs land in one folder per hour: remember the folders made so each write skips the mkdir syscalls.
  const madeDirs = new Set<string>();
  return {
    async put(key, body) {
      const file = pathOf(key);
      const dir = dirname(file);
      if (!madeDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        if (madeDirs.size > 10_000) madeDirs.clear();
        madeDirs.add(dir);
      }
      await writeFile(file, body, { mode: 0o600 });
    },
    async get(key) {
      try {
        return await readFile(pathOf(key), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async close() {},
  };
}
