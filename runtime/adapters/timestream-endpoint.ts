/** What DescribeEndpoints answers, in both the Timestream write and query APIs. */
interface DescribedEndpoints {
  Endpoints?: Array<{ Address?: string; CachePeriodInMinutes?: number }>;
}

export interface TimestreamClientResolverOptions<C> {
  /** e.g. `http://127.0.0.1:9999`: where DescribeEndpoints is asked; its scheme is used for the discovered address. */
  discoveryEndpoint?: string;
  /** A client for `endpoint` (undefined: the SDK's own endpoint and discovery). */
  create(endpoint?: string): C;
  describe(client: C): Promise<DescribedEndpoints>;
}

/**
 * The client to send a Timestream call with. In AWS the SDK discovers the cell endpoint itself; with
 * `discoveryEndpoint` (tests, VPC endpoints) DescribeEndpoints is asked there and the client is
 * pointed at the address it returns, refreshed after `CachePeriodInMinutes`.
 */
export function timestreamClientResolver<C extends { destroy(): void }>(opts: TimestreamClientResolverOptions<C>): { get(): Promise<C>; close(): void } {
  let client: C | undefined;
  let expiresAt = 0;
  const discovery = opts.discoveryEndpoint ? opts.create(opts.discoveryEndpoint) : undefined;
  const get = async () => {
    if (!discovery) return (client ??= opts.create());
    if (client && Date.now() < expiresAt) return client;
    const { Endpoints } = await opts.describe(discovery);
    const found = Endpoints?.[0];
    if (!found?.Address) throw new Error('Timestream DescribeEndpoints returned no endpoint');
    const scheme = new URL(opts.discoveryEndpoint!).protocol;
    client?.destroy();
    client = opts.create(`${scheme}//${found.Address}`);
    expiresAt = Date.now() + Math.max(1, found.CachePeriodInMinutes ?? 1) * 60_000;
    return client;
  };
  return {
    get,
    close() {
      client?.destroy();
      discovery?.destroy();
    },
  };
}
