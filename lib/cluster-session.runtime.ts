import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { LocalCache } from './cache/local-cache';
import { ClusterSessionMetrics } from './metrics/cluster-session-metrics';
import { ClusterCoordinator } from './cluster/cluster-coordinator';
import { withCommandDeadline } from './redis/command-deadline';
import type { ResolvedClusterSessionOptions } from './options/cluster-session-options.interface';
import {
  closeRedis,
  connectRedis,
  createRedisConnection,
  createSubscriberConnection,
  settleDroppedCommands,
  isClusterConnection,
} from './redis/redis-connection.factory';
import type { RedisConnection } from './redis/redis-connection.interface';
import { watchConnection } from './redis/redis-connection.watcher';
import { describeEndpoint } from './redis/redis-endpoint.util';
import { ClusteredRedisStore, type CachedSession } from './store/clustered-redis.store';
import { LegacySessionMigrator } from './store/legacy-session.migrator';
import { ExpiryListener } from './events/expiry-listener';
import { SessionEvents } from './events/session-events';

/**
 * On Redis Cluster one origin's messages travel through different shards: how long a missing
 * one is awaited before the cache is flushed. Loopback cluster-bus delays are well under this.
 */
const CLUSTER_REORDER_WINDOW_MS = 250;

/**
 * Everything one node runs, built from resolved options: the command connection, the local
 * cache, the coordinator (with its own subscriber connection) and the store, each present even
 * when switched off by the options (a disabled cache or coordinator says so: `enabled`).
 *
 * Built here by hand rather than as a graph of Nest providers: the same node runs outside Nest
 * too (the multi-process tests, the benchmarks), the order of its lifecycle matters (connect,
 * then subscribe; on shutdown wait for commits in flight before unsubscribing and closing), and
 * one object that owns the connections it opened is the simplest way to keep that order. The
 * module provides the parts from it.
 */
export class ClusterSessionRuntime {
  readonly connection: RedisConnection;
  readonly cache: LocalCache<CachedSession>;
  readonly coordinator: ClusterCoordinator;
  readonly store: ClusteredRedisStore;
  /** Moves express-session + connect-redis sessions in, when `migrateFrom` is set. */
  readonly migrator: LegacySessionMigrator | null;
  /** What happens to sessions on this node (`SessionEvents`). */
  readonly events: SessionEvents;
  /** `expired` events from Redis keyspace notifications, when `events.expired` is on. */
  private readonly expiries: ExpiryListener | null;
  /** Prometheus metrics, when prom-client is installed and `metrics` is not false. */
  readonly metrics: ClusterSessionMetrics | null;
  private stopped?: Promise<void>;
  private readonly unwatch: () => void;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly logger = new Logger('ClusterSession');

  constructor(readonly options: ResolvedClusterSessionOptions) {
    const { cluster } = options;
    const { maxAge } = options.cookie;
    if (maxAge !== undefined && maxAge > options.absoluteTimeout) {
      // not an error (the cookie is still set), but not what the option says either
      this.logger.warn(
        `cookie.maxAge (${maxAge} ms) is longer than absoluteTimeout (${options.absoluteTimeout} ms): a session never outlives absoluteTimeout, so its cookie gets at most that. Raise absoluteTimeout to keep the lifetime`,
      );
    }
    this.connection = createRedisConnection(options.redis);
    settleDroppedCommands(this.connection.client);
    this.cache = new LocalCache<CachedSession>({
      ttl: cluster.localCacheTtl,
      maxSize: cluster.localCacheMaxSize,
      enabled: cluster.localCacheEnabled,
    });
    this.coordinator = new ClusterCoordinator(
      cluster.enabled ? createSubscriberConnection(options.redis) : null,
      {
        channel: cluster.channel,
        keyPrefix: options.keyPrefix,
        nodeId: cluster.nodeId,
        secrets: options.secrets,
        subscribeTimeout: cluster.subscribeTimeout,
        heartbeatInterval: cluster.heartbeatInterval,
        propagation: cluster.propagation,
        maxUpdateBytes: cluster.maxUpdateBytes,
        reorderWindowMs: isClusterConnection(options.redis) ? CLUSTER_REORDER_WINDOW_MS : 0,
      },
    );
    // the store's commands fail within commandTimeout of being issued, pipelined or not
    const commands = withCommandDeadline(this.connection.client);
    this.events = new SessionEvents(cluster.nodeId);
    this.expiries = options.events.expired
      ? new ExpiryListener(
          createSubscriberConnection(options.redis),
          options.keyPrefix,
          this.events,
        )
      : null;
    this.store = new ClusteredRedisStore({
      redis: commands,
      options: { ...options, eventSink: this.events, sharedConnection: !this.connection.owned },
      cache: this.cache,
      coordinator: this.coordinator,
    });
    this.migrator = options.migrateFrom
      ? new LegacySessionMigrator(commands, this.store, options.migrateFrom, options)
      : null;
    this.metrics = options.metrics ? ClusterSessionMetrics.create(this, options.metrics) : null;
    // a user's own instance keeps its own error handling
    this.unwatch = this.connection.owned
      ? watchConnection(this.connection.client, this.logger, 'commands')
      : () => undefined;
  }

  get redis(): Redis | Cluster {
    return this.connection.client;
  }

  /** Connects, then subscribes (waiting at most `cluster.subscribeTimeout`). */
  async start(): Promise<void> {
    try {
      await connectRedis(this.connection.client);
    } catch (error) {
      // ioredis keeps reconnecting; until then requests that need a session get 503
      this.logger.warn(
        `${describeEndpoint(this.connection.client)} not reachable at startup (${(error as Error).message}); ` +
          'retrying in the background: requests that need a session get 503 until then',
      );
    }
    await this.coordinator.start();
    await this.expiries?.start(this.options.cluster.subscribeTimeout);
  }

  /** Runs a commit, remembered until it settles so that `stop()` can wait for it. */
  track<R>(work: Promise<R>): Promise<R> {
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Waits for in-flight commits, then unsubscribes and closes what this runtime opened. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.allSettled([...this.inFlight]);
      this.metrics?.remove();
      this.unwatch(); // closing is not an outage: no "unreachable" warning on every shutdown
      await this.coordinator.stop();
      await this.expiries?.stop();
      await closeRedis(this.connection);
      this.events.complete();
    })();
    return this.stopped;
  }
}
