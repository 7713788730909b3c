import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../runtime/core/logger.js';
import { Shipper } from '../../runtime/gateway/telemetry/spool.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('telemetry spool with an unusable directory', () => {
  it('keeps serving: undeliverable batches wait in memory, the operator is told, and they are sent once the receiver is back', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-spool-'));
    const notADirectory = join(dir, 'file');
    await writeFile(notADirectory, 'x');
    const errors: Array<{ message: string; fields?: object }> = [];
    const logger: Logger = { info() {}, warn() {}, error: (message, fields) => errors.push({ message, fields }) };
    let up = false;
    const received: number[] = [];
    const shipper = new Shipper<number>({
      name: 'metrics',
      send: async (items) => {
        if (!up) throw new Error('control plane unreachable');
        received.push(...items);
      },
      spoolDir: join(notADirectory, 'spool'),
      budget: { maxBytes: 1_000_000, usedBytes: 0 },
      batchSize: 2,
      flushIntervalMs: 60_000,
      backoffBaseMs: 10,
      backoffMaxMs: 20,
      logger,
    });
    await shipper.ready;
    expect(errors[0]?.message).toMatch(/spool directory is not usable.*TOLLGATE_SPOOL_DIR/);
    expect(errors[0]?.fields).toMatchObject({ spoolDir: join(notADirectory, 'spool'), reason: expect.stringMatching(/ENOTDIR/) });

    for (const n of [1, 2, 3]) shipper.add(n);
    await shipper.flush();
    expect(shipper.stats).toMatchObject({ spooledItems: 3, droppedItems: 0 });

    up = true;
    await shipper.drain();
    expect(received.sort()).toEqual([1, 2, 3]);
    expect(shipper.stats.spooledItems).toBe(0);
    await shipper.close();
  });
});
