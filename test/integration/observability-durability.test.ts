import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startObsHarness, waitFor, type ObsHarness } from '../support/observability.js';

/**
 * Durability of telemetry: the control plane killed mid-traffic, the gateway restarted while its
 * batches wait in the spool, then the control plane back: every request counted exactly once.
 * A full spool drops, and says how much.
 */
describe('observability: spool and recovery', () => {
  let h: ObsHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const requestsTotal = async (harness: ObsHarness, metadata: Record<string, string>) => {
    const q = new URLSearchParams({
      time_of_generation_min: new Date(Date.now() - 3600_000).toISOString(),
      time_of_generation_max: new Date(Date.now() + 60_000).toISOString(),
      metadata: JSON.stringify(metadata),
    });
    const res = await harness.api(`/v1/analytics/graphs/requests?${q}`);
    return ((await res.json()) as { summary: { total: number } }).summary.total;
  };

  const chat = async (harness: ObsHarness, run: string, n: number) => {
    const client = harness.openai({ 'x-portkey-virtual-key': harness.slugs.primary, 'x-portkey-metadata': JSON.stringify({ run }) });
    for (let i = 0; i < n; i++) await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello ${i}` }] });
  };

  it('keeps serving with the control plane down, survives a gateway restart, and counts every request exactly once', async () => {
    h = await startObsHarness({ gateway: { telemetry: { batchSize: 7 } } });
    await chat(h, 'kill', 20);
    await h.stopControlPlane(); // killed mid-traffic: batches in flight fail and go to the spool
    await chat(h, 'kill', 30);
    await waitFor(async () => h!.gateway.telemetry().metrics.spooledItems > 0 && h!.gateway.telemetry().metrics.queued === 0, 'batches in the spool');
    await h.gateway.close(); // what is still queued is spooled on the way down
    const spoolDir = join(h.dir, 'spool', 'metrics');
    const files = (await readdir(spoolDir)).filter((f) => f.endsWith('.batch.json'));
    expect(files.length).toBeGreaterThan(0);

    // A new gateway process over the same spool directory; the control plane comes back.
    await h.restartControlPlane();
    const second = await h.startGateway();
    await waitFor(async () => (await readdir(spoolDir)).filter((f) => f.endsWith('.batch.json')).length === 0, 'the spool to drain');
    await waitFor(async () => (await requestsTotal(h!, { run: 'kill' })) === 50, 'all 50 requests in analytics');
    expect(second.telemetry().metrics.droppedItems).toBe(0);

    // Delivering the same spooled batch again (at-least-once) changes nothing.
    await new Promise((r) => setTimeout(r, 500));
    expect(await requestsTotal(h, { run: 'kill' })).toBe(50);
  });

  it('bounds the spool: what does not fit is dropped, counted and exposed on GET /v1/telemetry', async () => {
    h = await startObsHarness({ gateway: { telemetry: { batchSize: 1, spoolMaxBytes: 4000, flushIntervalMs: 50 } } });
    await h.stopControlPlane();
    await chat(h, 'full', 12);
    await waitFor(async () => h!.gateway.telemetry().metrics.queued === 0 && h!.gateway.telemetry().metrics.droppedItems > 0, 'drops');
    const stats = (await (await fetch(`${h.gateway.url}/v1/telemetry`)).json()) as {
      dropped_total: number;
      spool: { used_bytes: number; max_bytes: number };
      metrics: { droppedItems: number; spooledItems: number };
    };
    expect(stats.spool.max_bytes).toBe(4000);
    expect(stats.spool.used_bytes).toBeLessThanOrEqual(4000);
    expect(stats.dropped_total).toBeGreaterThan(0);
    const spooled = stats.metrics.spooledItems;
    const dropped = stats.metrics.droppedItems;
    expect(spooled + dropped).toBe(12);

    await h.restartControlPlane();
    await waitFor(async () => (await requestsTotal(h!, { run: 'full' })) === spooled, `the ${spooled} spooled records`);
    expect(h.gateway.telemetry().metrics.spooledItems).toBe(0);
  });
});
