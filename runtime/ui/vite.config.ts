import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The control panel. `npm run build:ui` writes runtime/ui/dist, which the control plane serves in
 * `tollgate dev` (runtime/control-plane/ui-static.ts) and the ControlPlane construct uploads to S3.
 */
export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 400,
    assetsDir: 'assets',
  },
  server: {
    // `npx vite --config runtime/ui/vite.config.ts` for UI work: the API is proxied to a running `tollgate dev`.
    proxy: { '/v1': process.env.TOLLGATE_CONTROL_PLANE_URL ?? 'http://127.0.0.1:8788' },
  },
});
