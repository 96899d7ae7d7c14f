import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';

/** A Redis Cluster this module connects to itself, from its seed nodes. */
export interface RedisClusterOptions {
  /** Seed nodes: `{ host, port }`, `'host:port'` or a port; the rest is discovered. */
  clusterNodes: ClusterNode[];
  /** ioredis `Cluster` options, over this module's defaults (`redisOptions` applies to every node). */
  clusterOptions?: ClusterOptions;
}

/**
 * How to reach Redis: a URL (`redis://`, `rediss://` for TLS), ioredis options (including
 * `{ sentinels, name }` for Sentinel), `{ clusterNodes, clusterOptions }` for Redis Cluster, or
 * an ioredis `Redis` or `Cluster` instance you own.
 *
 * @publicApi
 */
export type RedisConnectionOption = string | RedisOptions | RedisClusterOptions | Redis | Cluster;

/** A connection and whether this module opened it (and so must close it). */
export interface RedisConnection<C extends Redis | Cluster = Redis | Cluster> {
  client: C;
  owned: boolean;
}
