import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_IMAGE_EXCLUDE } from '../../lib/index.js';
import { PACKAGE_ROOT } from '../../lib/paths.js';

// The gateway image the DataPlane builds by default. Docker itself is not needed (nor run) here: the
// build stage's bundle step is run directly, and the Dockerfile's stages are checked as written.
const dockerfile = readFileSync(join(PACKAGE_ROOT, 'Dockerfile'), 'utf8');
const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
const stages = lines.filter((l) => /^FROM\s/i.test(l));
const runtimeStage = lines.slice(lines.findIndex((l) => /^FROM\s.*\sAS\s+runtime$/i.test(l)));

describe('gateway Dockerfile', () => {
  it('is multi-stage: a build stage bundles with esbuild, the runtime stage copies only the bundle', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => /^RUN node scripts\/bundle-gateway\.mjs \/out\/gateway\.mjs$/.test(l))).toBe(true);
    expect(runtimeStage.filter((l) => /^COPY\s/.test(l))).toEqual([expect.stringMatching(/^COPY --from=build .*\/out\/ \/app\/$/)]);
    expect(runtimeStage.some((l) => /npm (ci|install)/.test(l))).toBe(false);
  });

  it('runs on Node 22 slim as a non-root user, with a /v1/health check and SIGTERM', () => {
    expect(runtimeStage[0]).toMatch(/^FROM node:22-slim AS runtime$/);
    const users = runtimeStage.filter((l) => /^USER\s/.test(l));
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/USER\s+(root|0)(\s|$|:)/);
    expect(runtimeStage.findIndex((l) => /^USER\s/.test(l))).toBeLessThan(runtimeStage.findIndex((l) => /^CMD\s/.test(l)));
    expect(runtimeStage.find((l) => /^HEALTHCHECK\s/.test(l))).toBeDefined();
    expect(dockerfile).toMatch(/\/v1\/health/);
    expect(runtimeStage).toContain('STOPSIGNAL SIGTERM');
    expect(runtimeStage.find((l) => /^CMD\s/.test(l))).toBe('CMD ["node", "/app/gateway.mjs"]');
  });

  it('declares the spool directory as a volume owned by the non-root user (read-only root file system)', () => {
    expect(runtimeStage).toContain('RUN mkdir -p /var/lib/tollgate/spool && chown -R node:node /var/lib/tollgate');
    expect(runtimeStage).toContain('VOLUME ["/var/lib/tollgate", "/tmp"]');
  });

  it('.dockerignore and the asset excludes agree', () => {
    const ignore = readFileSync(join(PACKAGE_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect([...ignore].sort()).toEqual([...GATEWAY_IMAGE_EXCLUDE].sort());
  });

  it('the build step produces one ESM bundle of the gateway', () => {
    const out = mkdtempSync(join(tmpdir(), 'tollgate-bundle-'));
    try {
      execFileSync(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'bundle-gateway.mjs'), join(out, 'gateway.mjs')], { cwd: PACKAGE_ROOT, stdio: 'pipe' });
      const code = readFileSync(join(out, 'gateway.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire as __tollgateCreateRequire }")).toBe(true);
      expect(code).toContain('TOLLGATE_CONTROL_PLANE_URL');
      expect(existsSync(join(out, 'gateway.mjs.map'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
