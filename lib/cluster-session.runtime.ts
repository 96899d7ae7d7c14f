import type { Cluster, Redis } from 'ioredis';
import { LocalCache } from './cache/local-cache.service';
import { ClusterCoordinator } from './cluster/cluster-coordinator.service';
import type { ResolvedClusterSessionOptions } from './options/cluster-session-options.interface';
import {
  closeRedis,
  connectRedis,
  createRedisConnection,
  createSubscriberConnection,
} from './redis/redis-connection.factory';
import type { RedisConnection } from './redis/redis-connection.interface';
import { ClusteredRedisStore, type CachedSession } from './store/clustered-redis.store';

/**
 * Everything one node runs, built from resolved options: the command connection, the local
 * cache, the coordinator (with its own subscriber connection) and the store. The Nest module
 * provides these; tests, benchmarks and the sample build them the same way.
 */
export class ClusterSessionRuntime {
  readonly connection: RedisConnection;
  readonly cache: LocalCache<CachedSession> | null;
  readonly coordinator: ClusterCoordinator | null;
  readonly store: ClusteredRedisStore;
  private stopped?: Promise<void>;

  constructor(readonly options: ResolvedClusterSessionOptions) {
    const { cluster } = options;
    this.connection = createRedisConnection(options.redis);
    this.cache = cluster.localCacheEnabled
      ? new LocalCache<CachedSession>({
          ttl: cluster.localCacheTtl,
          maxSize: cluster.localCacheMaxSize,
        })
      : null;
    this.coordinator = cluster.enabled
      ? new ClusterCoordinator(createSubscriberConnection(options.redis), {
          channel: cluster.channel,
          nodeId: cluster.nodeId,
          secrets: options.secrets,
          subscribeTimeout: cluster.subscribeTimeout,
          heartbeatInterval: cluster.heartbeatInterval,
        })
      : null;
    this.store = new ClusteredRedisStore(
      this.connection.client,
      options,
      this.cache,
      this.coordinator,
      cluster.localCacheTtl,
    );
  }

  get redis(): Redis | Cluster {
    return this.connection.client;
  }

  /** Connects, then subscribes (waiting at most `cluster.subscribeTimeout`). */
  async start(): Promise<void> {
    await connectRedis(this.connection.client);
    await this.coordinator?.start();
  }

  /** Unsubscribes and closes the connections this runtime opened. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.coordinator?.stop();
      await closeRedis(this.connection);
    })();
    return this.stopped;
  }
}
