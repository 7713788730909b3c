import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { elastiCacheAuthToken, IAM_REFRESH_MS, type ElastiCacheIamOptions } from './elasticache-iam-token.js';

/** Where and how to reach Redis/ElastiCache; shared by the cache, the rate limiter and the budget store. */
export interface RedisConnectionOptions {
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
}

/** What differs between the clients built on one connection spec: how they fail and their key space. */
export interface RedisClientTuning {
  keyPrefix: string;
  enableOfflineQueue: boolean;
  maxRetriesPerRequest: number;
  commandTimeout?: number;
  retryStrategy?: (times: number) => number | null;
}

export interface RedisConnection {
  client: Redis | Cluster;
  /** Settles once an IAM-authenticated client has its first token and has started connecting (at once otherwise). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** One ioredis client (single node or cluster) with TLS, AUTH/ACL or IAM as `opts` asks. */
export function connectRedis(opts: RedisConnectionOptions, tuning: RedisClientTuning): RedisConnection {
  const url = new URL(opts.url);
  const tls = url.protocol === 'rediss:';
  if (opts.iam && !tls) throw new Error('ElastiCache IAM authentication needs TLS: use a rediss:// URL');
  const connection: RedisOptions = {
    maxRetriesPerRequest: tuning.maxRetriesPerRequest,
    enableOfflineQueue: tuning.enableOfflineQueue,
    ...(tuning.commandTimeout !== undefined ? { commandTimeout: tuning.commandTimeout } : {}),
    ...(tuning.retryStrategy ? { retryStrategy: tuning.retryStrategy } : {}),
    ...(tls ? { tls: opts.tlsCa ? { ca: opts.tlsCa } : {} } : {}),
    ...(opts.authToken ? { password: opts.authToken } : {}),
    ...(opts.username ? { username: opts.username } : {}),
    ...(opts.iam ? { username: opts.iam.userId } : {}),
  };
  // With IAM the first token must exist before the first connection: connect once it does.
  const lazyConnect = Boolean(opts.iam);
  let client: Redis | Cluster;
  if (opts.cluster) {
    const clusterOptions: ClusterOptions = {
      keyPrefix: tuning.keyPrefix,
      lazyConnect,
      enableOfflineQueue: tuning.enableOfflineQueue,
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
    client = new Redis(opts.url, { ...connection, keyPrefix: tuning.keyPrefix, lazyConnect });
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
    client,
    ready,
    async close() {
      clearInterval(refresh);
      await client.quit().catch(() => client.disconnect());
    },
  };
}
