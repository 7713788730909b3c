import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder holding package.json, Dockerfile and runtime/), resolved from this file. */
export const PACKAGE_ROOT: string = dirname(dirname(fileURLToPath(import.meta.url)));

/** Folder of the control-plane Lambda entries, `runtime/control-plane/handlers/<name>.ts`. */
export const DEFAULT_HANDLERS_DIR: string = join(PACKAGE_ROOT, 'runtime', 'control-plane', 'handlers');

/** The built control-panel UI, deployed to the UI bucket only when it exists. */
export const DEFAULT_UI_ASSETS_DIR: string = join(PACKAGE_ROOT, 'runtime', 'ui', 'dist');

/** Path of a handler entry; throws a clear synth-time error when the file is missing. */
export function handlerEntry(dir: string, name: string): string {
  const entry = join(dir, `${name}.ts`);
  if (!existsSync(entry)) {
    throw new Error(`Tollgate ControlPlane: Lambda entry ${entry} is missing (expected to export \`handler\`).`);
  }
  return entry;
}
