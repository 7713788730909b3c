import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { elastiCacheAuthToken, IAM_REFRESH_MS, type ElastiCacheIamOptions } from './elasticache-iam-token.js';
import type { TtlAwareCache } from './tiered-cache.js';

export interface RedisCacheOptions {
  /** `redis://host:6379` or `rediss://host:6379` (TLS, as ElastiCache with in-transit encryption needs). */
  url: string;
  /** ElastiCache AUTH token (or Redis password); overrides a password in the URL. */
  authToken?: string;
  /** ACL user name the AUTH token belongs to (Redis 6+ / ElastiCache RBAC); default the URL's, else `default`. */
  username?: string;
  /**
   * ElastiCache IAM authentication instead of a static token: a SigV4 token from the task role,
   * renewed every 10 minutes (tokens live 15) for the reconnects to come. Needs TLS (`rediss://`).
   */
  iam?: ElastiCacheIamOptions;
  /** Cluster mode enabled: `url` is the configuration endpoint; keys are spread over the shards. */
  cluster?: boolean;
  /** PEM of the CA that signed the server certificate, when it is not a public one (default: Node's CA store). */
  tlsCa?: string;
  /** Prefix for every key, so several gateways can share one Redis. Default `tollgate:`. */
  keyPrefix?: string;
}

/** The shared gateway cache for multi-task deployments (ElastiCache Valkey/Redis). */
export function redisCache(opts: RedisCacheOptions): TtlAwareCache {
  const url = new URL(opts.url);
  const tls = url.protocol === 'rediss:';
  if (opts.iam && !tls) throw new Error('ElastiCache IAM authentication needs TLS: use a rediss:// URL');
  const connection: RedisOptions = {
    // Fail fast instead of queueing forever: the gateway keeps serving from memory when Redis is away.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    ...(tls ? { tls: opts.tlsCa ? { ca: opts.tlsCa } : {} } : {}),
    ...(opts.authToken ? { password: opts.authToken } : {}),
    ...(opts.username ? { username: opts.username } : {}),
    ...(opts.iam ? { username: opts.iam.userId } : {}),
  };
  const keyPrefix = opts.keyPrefix ?? 'tollgate:';
  // With IAM the first token must exist before the first connection: connect once it does.
  const lazyConnect = Boolean(opts.iam);
  let client: Redis | Cluster;
  if (opts.cluster) {
    const clusterOptions: ClusterOptions = {
      keyPrefix,
      lazyConnect,
      enableOfflineQueue: true,
      // ElastiCache's TLS certificates name the endpoint, not the node IPs the cluster announces.
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: {
        ...connection,
        username: connection.username ?? (decodeURIComponent(url.username) || undefined),
        password: connection.password ?? (decodeURIComponent(url.password) || undefined),
      },
    };
    client = new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], clusterOptions);
  } else {
    client = new Redis(opts.url, { ...connection, keyPrefix, lazyConnect });
  }
  // Without a listener ioredis prints every reconnect error; the callers report failures themselves.
  client.on('error', () => {});

  let ready: Promise<void> = Promise.resolve();
  let refresh: NodeJS.Timeout | undefined;
  if (opts.iam) {
    const iam = opts.iam;
    const renew = async () => {
      const token = await elastiCacheAuthToken(iam);
      // Read at every (re)connect: new connections present the newest token.
      if (client instanceof Cluster) {
        client.options.redisOptions = { ...client.options.redisOptions, password: token };
        for (const node of client.nodes()) node.options.password = token;
      } else client.options.password = token;
    };
    ready = renew().then(() => client.connect()).catch(() => undefined);
    refresh = setInterval(() => void renew().catch(() => undefined), IAM_REFRESH_MS);
    refresh.unref();
  }

  return {
    async get(key) {
      await ready;
      const value = await client.get(key);
      return value ?? undefined;
    },
    async getWithTtl(key) {
      await ready;
      // One round trip (a pipeline: ElastiCache refuses MULTI on IAM-authenticated connections):
      // the value and how long it has left, so a local copy never outlives it.
      const results = (await client.pipeline().get(key).pttl(key).exec()) ?? [];
      const [[getErr, value], [, ttl]] = results as [[Error | null, string | null], [Error | null, number]];
      if (getErr) throw getErr;
      if (value === null) return undefined;
      return { value, ttlMs: ttl > 0 ? ttl : undefined };
    },
    async set(key, value, ttlSeconds) {
      await ready;
      if (ttlSeconds) await client.set(key, value, 'EX', ttlSeconds);
      else await client.set(key, value);
    },
    async delete(key) {
      await ready;
      await client.del(key);
    },
    async ping() {
      try {
        await ready;
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      clearInterval(refresh);
      await client.quit().catch(() => client.disconnect());
    },
  };
}
