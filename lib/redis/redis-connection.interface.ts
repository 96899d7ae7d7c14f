import type { Cluster, Redis, RedisOptions } from 'ioredis';

/**
 * How to reach Redis: a URL (`redis://`, `rediss://` for TLS), ioredis options (including
 * `{ sentinels, name }` for Sentinel), or an ioredis `Redis` or `Cluster` instance you own.
 */
export type RedisConnectionOption = string | RedisOptions | Redis | Cluster;

/** A connection and whether this module opened it (and so must close it). */
export interface RedisConnection<C extends Redis | Cluster = Redis | Cluster> {
  client: C;
  owned: boolean;
}
