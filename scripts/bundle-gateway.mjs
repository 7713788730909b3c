#!/usr/bin/env node
// Bundles the gateway into one ESM file: what the DataPlane image runs (Dockerfile) and what
// `npm run bench` measures, so the benchmark times the shipped artifact.
import { build } from 'esbuild';

const outfile = process.argv[2];
if (!outfile) {
  console.error('usage: node scripts/bundle-gateway.mjs <outfile.mjs> [node target, default node22]');
  process.exit(2);
}
await build({
  entryPoints: [new URL('../runtime/gateway/main.ts', import.meta.url).pathname],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: process.argv[3] ?? 'node22',
  external: ['pg-native'],
  legalComments: 'none',
  sourcemap: 'external',
  // CommonJS dependencies still call require(); ESM output has none unless we make one.
  banner: { js: "import { createRequire as __tollgateCreateRequire } from 'node:module'; const require = __tollgateCreateRequire(import.meta.url);" },
  outfile,
  logLevel: 'warning',
});
