import type { Redis } from 'ioredis';
import {
  closeRedis,
  connectRedis,
  createRedisConnection,
} from '../lib/redis/redis-connection.factory';
import { RedisSessionStore } from '../lib/store/redis-session.store';
import { RedisServer } from '../test/support/redis-server';
import { compare, formatTimings } from './support/compare';
import { sessionPayload } from './support/session-payload';

/** Issue 3's figure: a save (one EVALSHA) against a plain SET of the same payload, side by side. */
export async function sessionStoreBench(): Promise<string[]> {
  const server = await RedisServer.start();
  const connection = createRedisConnection(server.url);
  const redis = connection.client as Redis;
  await connectRedis(redis);
  try {
    const store = new RedisSessionStore(redis, {
      keyPrefix: 'sess:',
      ttl: 3_600_000,
      absoluteTimeout: 86_400_000,
      touchAfter: 60_000,
      maxSessionBytes: 65_536,
    });
    const oneKey = await store.create(sessionPayload(1));
    const everyKey = await store.create(sessionPayload(2));
    const payloadBytes = Buffer.byteLength(JSON.stringify(sessionPayload(3)));
    const timings = await compare([
      {
        name: `SET of the whole session (${payloadBytes} B JSON)`,
        run: (i) => redis.set('plain', JSON.stringify(sessionPayload(i)), 'PX', 3_600_000),
      },
      {
        name: 'save, one top-level key changed',
        run: (i) => {
          oneKey.data.visits = i;
          return store.save(oneKey);
        },
      },
      {
        name: 'save, every top-level key changed',
        run: (i) => {
          everyKey.data = sessionPayload(i + 10);
          return store.save(everyKey);
        },
      },
    ]);
    const [set, one, every] = timings;
    return [
      'SessionStore.save against a plain SET (private redis-server, loopback)',
      formatTimings(timings),
      `  save (one key) / SET: ${(one.nsPerOp / set.nsPerOp).toFixed(2)}x; ` +
        `save (every key) / SET: ${(every.nsPerOp / set.nsPerOp).toFixed(2)}x (target <= 1.5x)`,
    ];
  } finally {
    await closeRedis(connection);
    await server.dispose();
  }
}
