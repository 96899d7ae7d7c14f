import type { Redis } from 'ioredis';
import {
  closeRedis,
  connectRedis,
  createRedisConnection,
} from '../../lib/redis/redis-connection.factory';
import {
  RedisSessionStore,
  type RedisSessionStoreOptions,
} from '../../lib/store/redis-session.store';
import type { AnySessionData } from '../../lib/session/session-data.interface';
import type { RedisServer } from '../../sample/support/redis-server';

export const STORE_DEFAULTS: RedisSessionStoreOptions = {
  keyPrefix: 'sess:',
  ttl: 60_000,
  absoluteTimeout: 600_000,
  touchAfter: 1_000,
  maxSessionBytes: 65_536,
};

export interface StoreFixture<T extends AnySessionData> {
  store: RedisSessionStore<T>;
  redis: Redis;
  close(): Promise<void>;
}

/** A RedisSessionStore on its own connection (created by the module's own factory) to `server`. */
export async function openStore<T extends AnySessionData = AnySessionData>(
  server: RedisServer,
  options: Partial<RedisSessionStoreOptions> = {},
): Promise<StoreFixture<T>> {
  const connection = createRedisConnection(server.url);
  const redis = connection.client as Redis;
  await connectRedis(redis);
  const store = new RedisSessionStore<T>(redis, { ...STORE_DEFAULTS, ...options });
  return { store, redis, close: () => closeRedis(connection) };
}
