import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConnection, RedisConnectionOption } from './redis-connection.interface';

/**
 * Defaults under the user's own options. A dead Redis must fail a request fast, with a typed
 * error, rather than hang it: commands time out, and nothing is queued while disconnected.
 */
export const COMMAND_CONNECTION_DEFAULTS: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 2_000,
  connectTimeout: 2_000,
  // ioredis arms this timer even when the socket is already closed; keep shutdown short
  disconnectTimeout: 200,
  retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 1_000),
};

/**
 * The subscriber only subscribes and pings. It does not resubscribe by itself: the coordinator
 * does, so it knows the moment the subscription is back and the cache can be trusted again.
 */
export const SUBSCRIBER_CONNECTION_DEFAULTS: RedisOptions = {
  ...COMMAND_CONNECTION_DEFAULTS,
  enableOfflineQueue: true,
  autoResubscribe: false,
  maxRetriesPerRequest: null,
  commandTimeout: undefined,
};

export function isRedisInstance(value: unknown): value is Redis | Cluster {
  return value instanceof Redis || value instanceof Cluster;
}

/** The command connection: a user's instance as it is (not owned), or a new one (owned). */
export function createRedisConnection(option: RedisConnectionOption): RedisConnection {
  if (isRedisInstance(option)) return { client: option, owned: false };
  return { client: build(option, COMMAND_CONNECTION_DEFAULTS), owned: true };
}

/**
 * The dedicated subscriber connection, always owned. Built from the same input as the command
 * connection, or as a `duplicate()` of the user's instance, so it carries the whole
 * configuration (TLS, password, db, Sentinel, Cluster nodes), not a partial copy.
 */
export function createSubscriberConnection(option: RedisConnectionOption): RedisConnection {
  // A duplicate connects when this module says so, not at construction.
  if (option instanceof Cluster) {
    return {
      client: option.duplicate(undefined, {
        lazyConnect: true,
        redisOptions: { autoResubscribe: false },
      }),
      owned: true,
    };
  }
  if (option instanceof Redis) {
    return {
      client: option.duplicate({
        lazyConnect: true,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
      }),
      owned: true,
    };
  }
  return { client: build(option, SUBSCRIBER_CONNECTION_DEFAULTS), owned: true };
}

function build(option: string | RedisOptions, defaults: RedisOptions): Redis {
  return typeof option === 'string'
    ? new Redis(option, { ...defaults })
    : new Redis({ ...defaults, ...option });
}

/** Connects a lazily-created client; a no-op when it is already connecting or connected. */
export async function connectRedis(client: Redis | Cluster): Promise<void> {
  if (client.status === 'wait') await client.connect();
}

/**
 * Closes a connection this module owns and waits until it has ended: QUIT when connected (pending
 * replies arrive first), disconnect otherwise; a client already ended is skipped.
 */
export async function closeRedis({ client, owned }: RedisConnection): Promise<void> {
  if (!owned || client.status === 'end') return;
  if (client.status === 'reconnecting' || client.status === 'close') {
    // the socket is already closed: disconnect() only cancels the retry, and emits no 'end'
    client.disconnect();
    return;
  }
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  if (client.status === 'ready') {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
  await ended;
}
