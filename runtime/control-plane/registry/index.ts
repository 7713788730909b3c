import { memoryRegistry } from '../../adapters/memory-registry.js';
import type { DataPlaneRegistry } from '../../core/data-plane-registry.js';
import type { ControlPlaneContext } from '../context.js';

/**
 * The data-plane registry a control plane uses: `TOLLGATE_REGISTRY_TABLE` (DynamoDB) when set, else
 * one in-memory registry per control-plane context (dev, tests: each local control plane its own).
 * `setDataPlaneRegistry` lets a caller inject one (tests on dynalite).
 */
const byContext = new WeakMap<object, Promise<DataPlaneRegistry>>();
let fromEnv: Promise<DataPlaneRegistry> | undefined;

export function setDataPlaneRegistry(ctx: ControlPlaneContext, registry: DataPlaneRegistry): void {
  byContext.set(ctx.db, Promise.resolve(registry));
}

export function dataPlaneRegistry(ctx: ControlPlaneContext): Promise<DataPlaneRegistry> {
  // Keyed by the database object: the local adapter and the tenant wrappers copy the context, not the db.
  const injected = byContext.get(ctx.db);
  if (injected) return injected;
  const table = process.env.TOLLGATE_REGISTRY_TABLE;
  if (table) {
    fromEnv ??= import('../../adapters/dynamodb-registry.js').then(({ dynamoRegistry }) => dynamoRegistry({ tableName: table }));
    return fromEnv;
  }
  const created = Promise.resolve(memoryRegistry());
  byContext.set(ctx.db, created);
  return created;
}
