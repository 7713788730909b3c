import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DataPlaneRecord, DataPlaneRegistry } from '../core/data-plane-registry.js';

export interface DynamoRegistryOptions {
  /** TOLLGATE_REGISTRY_TABLE: partition key `pk`, sort key `sk` (strings), TTL attribute `expires_at`. */
  tableName: string;
  /** For dynalite/local endpoints in tests. */
  client?: DynamoDBClientConfig;
}

const pk = (org: string) => `org#${org}`;
const sk = (instance: string) => `dp#${instance}`;

/**
 * The registry on DynamoDB (the table the ControlPlane construct creates). One item per
 * (org, instance); DynamoDB's TTL removes items some time after `expires_at`, so reads also filter
 * on it. `first_seen_at` is kept across heartbeats with `if_not_exists`.
 */
export function dynamoRegistry(opts: DynamoRegistryOptions): DataPlaneRegistry {
  const raw = new DynamoDBClient(opts.client ?? {});
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return {
    async record(entry) {
      const { first_seen_at, ...rest } = entry;
      const fields = Object.entries(rest);
      await doc.send(
        new UpdateCommand({
          TableName: opts.tableName,
          Key: { pk: pk(entry.organisation_id), sk: sk(entry.instance_id) },
          UpdateExpression:
            'SET ' + [...fields.map((_, i) => `#f${i} = :v${i}`), '#first = if_not_exists(#first, :first)'].join(', '),
          ExpressionAttributeNames: { ...Object.fromEntries(fields.map(([k], i) => [`#f${i}`, k])), '#first': 'first_seen_at' },
          ExpressionAttributeValues: { ...Object.fromEntries(fields.map(([, v], i) => [`:v${i}`, v])), ':first': first_seen_at },
        }),
      );
    },
    async list(organisationId) {
      const out: DataPlaneRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new QueryCommand({
            TableName: opts.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :dp)',
            FilterExpression: 'expires_at > :now',
            ExpressionAttributeValues: { ':pk': pk(organisationId), ':dp': 'dp#', ':now': Math.floor(Date.now() / 1000) },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          const { pk: _pk, sk: _sk, ...record } = item;
          out.push(record as DataPlaneRecord);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return out.sort((a, b) => b.last_seen_at.localeCompare(a.last_seen_at));
    },
    async close() {
      raw.destroy();
    },
  };
}
