import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoRegistry } from '../../runtime/adapters/dynamodb-registry.js';
import { memoryRegistry } from '../../runtime/adapters/memory-registry.js';
import type { DataPlaneRecord, DataPlaneRegistry } from '../../runtime/core/data-plane-registry.js';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const dynalite: (opts: Record<string, unknown>) => Server = ((await import('dynalite' as string)) as any).default;

function record(org: string, instance: string, overrides: Partial<DataPlaneRecord> = {}): DataPlaneRecord {
  const now = new Date();
  return {
    organisation_id: org,
    instance_id: instance,
    gateway_version: '0.1.0',
    sync_protocol: 2,
    synced_version: 7,
    control_plane_version: 9,
    uptime_seconds: 42,
    cache: 'ok',
    sync_lag_seconds: 0.5,
    push: true,
    last_seen_at: now.toISOString(),
    first_seen_at: now.toISOString(),
    expires_at: Math.floor(now.getTime() / 1000) + 300,
    ...overrides,
  };
}

async function contract(registry: DataPlaneRegistry) {
  await registry.record(record('org-a', 'gw-1', { first_seen_at: '2026-01-01T00:00:00.000Z', last_seen_at: '2026-01-01T00:00:00.000Z' }));
  await registry.record(record('org-a', 'gw-1', { synced_version: 9, first_seen_at: '2026-02-02T00:00:00.000Z', last_seen_at: '2026-02-02T00:00:00.000Z' }));
  await registry.record(record('org-a', 'gw-2', { last_seen_at: '2026-03-03T00:00:00.000Z', cache: 'down' }));
  await registry.record(record('org-a', 'gw-expired', { expires_at: Math.floor(Date.now() / 1000) - 1 }));
  await registry.record(record('org-b', 'gw-other'));

  const listed = await registry.list('org-a');
  expect(listed.map((r) => r.instance_id)).toEqual(['gw-2', 'gw-1']); // most recent first, expired gone
  const gw1 = listed.find((r) => r.instance_id === 'gw-1')!;
  expect(gw1).toMatchObject({ synced_version: 9, first_seen_at: '2026-01-01T00:00:00.000Z', last_seen_at: '2026-02-02T00:00:00.000Z', cache: 'ok', push: true });
  expect(listed.find((r) => r.instance_id === 'gw-2')!.cache).toBe('down');
  expect((await registry.list('org-b')).map((r) => r.instance_id)).toEqual(['gw-other']);
  expect(await registry.list('org-none')).toEqual([]);
}

describe('data-plane registry', () => {
  let server: Server;
  let endpoint: string;
  beforeAll(async () => {
    server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const client = () => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

  it('DynamoDB adapter on dynalite (the table the CDK creates: pk/sk, TTL expires_at)', async () => {
    const raw = new DynamoDBClient(client());
    await raw.send(
      new CreateTableCommand({
        TableName: 'registry',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    raw.destroy();
    const registry = dynamoRegistry({ tableName: 'registry', client: client() });
    await contract(registry);
    await registry.close();
  });

  it('memory adapter', async () => {
    await contract(memoryRegistry());
  });
});
