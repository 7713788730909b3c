#!/usr/bin/env node
// Bundles the gateway for Node: what the DataPlane image runs (Dockerfile) and what the benchmarks
// measure, so they time the shipped artifact. Dynamic imports (the tokenizer, rarely used
// providers' helpers) become chunk files next to the entry, loaded only when first needed: the
// gateway does not hold megabytes of source it may never run.
import { build } from 'esbuild';
import { basename, dirname, extname, resolve } from 'node:path';

// An optional third argument bundles another entry the same way (the comparison bench's Tollgate).
const [outfile, target, entry] = process.argv.slice(2);
if (!outfile) {
  console.error('usage: node scripts/bundle-gateway.mjs <outfile.mjs> [node target, default node22] [entry.ts, default runtime/gateway/main.ts]');
  process.exit(2);
}
const out = resolve(outfile);
await build({
  entryPoints: { [basename(out, extname(out))]: entry ? resolve(entry) : new URL('../runtime/gateway/main.ts', import.meta.url).pathname },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: target || 'node22',
  external: ['pg-native'],
  legalComments: 'none',
  sourcemap: 'external',
  // CommonJS dependencies still call require(); ESM output has none unless we make one.
  banner: { js: "import { createRequire as __tollgateCreateRequire } from 'node:module'; const require = __tollgateCreateRequire(import.meta.url);" },
  outdir: dirname(out),
  outExtension: { '.js': extname(out) || '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
