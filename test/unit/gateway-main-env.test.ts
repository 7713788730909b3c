import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatewayOptionsFromEnv } from '../../runtime/gateway/main.js';

describe('gateway container configuration from the environment', () => {
  it('names the variable to set when something is missing', async () => {
    await expect(gatewayOptionsFromEnv({})).rejects.toThrow(/TOLLGATE_CONTROL_PLANE_URL is not set/);
    await expect(gatewayOptionsFromEnv({ TOLLGATE_CONTROL_PLANE_URL: 'http://cp' })).rejects.toThrow(/TOLLGATE_DATA_PLANE_TOKEN is not set/);
    await expect(gatewayOptionsFromEnv({ TOLLGATE_CONTROL_PLANE_URL: 'http://cp', TOLLGATE_DATA_PLANE_TOKEN: 't' })).rejects.toThrow(/TOLLGATE_KMS_KEY_ARN .* TOLLGATE_KEYRING_FILE/);
  });

  it('reads port, interval, allowlist and the redis choice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-env-'));
    const base = { TOLLGATE_CONTROL_PLANE_URL: 'http://cp/', TOLLGATE_DATA_PLANE_TOKEN: 't', TOLLGATE_KEYRING_FILE: join(dir, 'k.json') };
    const opts = await gatewayOptionsFromEnv({ ...base, PORT: '9000', TOLLGATE_SYNC_INTERVAL: '5', TOLLGATE_CUSTOM_HOST_ALLOWLIST: 'a.example, b.example' });
    expect(opts).toMatchObject({ port: 9000, host: '0.0.0.0', controlPlaneUrl: 'http://cp', syncIntervalMs: 5000, customHostAllowlist: ['a.example', 'b.example'] });
    expect(opts.drainTimeoutMs).toBe(30_000);
    const drained = await gatewayOptionsFromEnv({ ...base, TOLLGATE_DRAIN_TIMEOUT: '75' });
    expect(drained.drainTimeoutMs).toBe(75_000);
    await drained.cache.close();
    await expect(gatewayOptionsFromEnv({ ...base, TOLLGATE_DRAIN_TIMEOUT: '0' })).rejects.toThrow(/TOLLGATE_DRAIN_TIMEOUT must be a positive integer/);
    await opts.cache.close();
    await expect(gatewayOptionsFromEnv({ ...base, TOLLGATE_CACHE: 'redis' })).rejects.toThrow(/TOLLGATE_REDIS_URL is not set/);
    await expect(gatewayOptionsFromEnv({ ...base, TOLLGATE_CACHE: 'disk' })).rejects.toThrow(/memory" or "redis/);
    await expect(gatewayOptionsFromEnv({ ...base, PORT: 'x' })).rejects.toThrow(/PORT must be a positive integer/);
    expect(opts.tracing).toBeUndefined();
    const traced = await gatewayOptionsFromEnv({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    expect(traced.tracing).toMatchObject({ started: expect.any(Function), finished: expect.any(Function) });
    await traced.tracing!.shutdown();
    await traced.cache.close();
    await expect(gatewayOptionsFromEnv({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' })).rejects.toThrow(/OpenTelemetry traces endpoint must be an http\(s\) URL/);
    await rm(dir, { recursive: true, force: true });
  });
});
