import type { Redis } from 'ioredis';
import {
  closeRedis,
  connectRedis,
  createRedisConnection,
} from '../lib/redis/redis-connection.factory';
import { RedisSessionStore } from '../lib/store/redis-session.store';
import { sessionKey } from '../lib/store/session-keys';
import { RedisServer } from '../sample/support/redis-server';
import { MessageAuthenticator } from '../lib/cluster/message-auth';
import { encodeClusterMessage } from '../lib/cluster/cluster-message';
import { compare, formatTimings } from './support/compare';
import { commandStats } from './support/redis-commands';
import { sessionPayload } from './support/session-payload';

const SECRET = 'bench-secret-that-is-at-least-32-characters';
const CHANNEL = 'bench:invalidate';

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
      '',
      ...(await scriptCost(server, redis)),
    ];
  } finally {
    await closeRedis(connection);
    await server.dispose();
  }
}

/**
 * #17's script cost: Redis time per call of a save (one key changed, published to three
 * subscribers, as in a three-node deployment) against a minimal HSET + PEXPIRE script, in
 * interleaved rounds on the same server; and, as the floor, a script that runs only the commands
 * a save needs (TIME, HMGET of its metadata, HSET, PEXPIRE, PUBLISH of a message as long as a
 * real one) with no logic and no MAC.
 */
async function scriptCost(server: RedisServer, redis: Redis): Promise<string[]> {
  const auth = new MessageAuthenticator([SECRET], { channel: CHANNEL, keyPrefix: 'cost:' });
  let seq = 0;
  const store = new RedisSessionStore(
    redis,
    {
      keyPrefix: 'cost:',
      ttl: 3_600_000,
      absoluteTimeout: 86_400_000,
      touchAfter: 60_000,
      maxSessionBytes: 65_536,
    },
    {
      announce: (announcement, alternatives = []) => {
        const from = { origin: 'bench', epoch: 'ab'.repeat(8), seq: ++seq, sentAt: Date.now() };
        const noop = encodeClusterMessage({ kind: 'noop' }, from, auth);
        const header = [CHANNEL, encodeClusterMessage(announcement, from, auth), noop] as const;
        return Object.assign(header, {
          alternatives: alternatives.map((other) => encodeClusterMessage(other, from, auth)),
        });
      },
    },
  );
  const subscribers = [server.client(), server.client(), server.client()];
  await Promise.all(subscribers.map((subscriber) => subscriber.subscribe(CHANNEL)));
  const minimal = (await redis.script(
    'LOAD',
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); redis.call('PEXPIRE', KEYS[1], ARGV[3]); return 1",
  )) as string;
  const floor = (await redis.script(
    'LOAD',
    `redis.call('TIME'); redis.call('HMGET', KEYS[1], 'v', 'created', 'expires', 'm')
     redis.call('HSET', KEYS[1], 'v', ARGV[1], 'touched', ARGV[2], ARGV[3], ARGV[4])
     redis.call('PEXPIRE', KEYS[1], ARGV[5]); redis.call('PUBLISH', ARGV[6], ARGV[7]); return 1`,
  )) as string;
  const message = `ncs3|u|${'x'.repeat(43)}|12|bench|${'ab'.repeat(8)}|123456|1700000000123|[1700000000123,1700003600123,0,0,[["d:visits","12"]],[]]|${'f'.repeat(32)}`;
  const sessions = await Promise.all(
    Array.from({ length: 100 }, (_, i) => store.create(sessionPayload(i))),
  );
  // the floor writes sessions of the same shape, its own (it leaves their versions alone)
  const floorKeys = await Promise.all(
    Array.from({ length: 100 }, async (_, i) =>
      sessionKey('cost:', (await store.create(sessionPayload(i))).id),
    ),
  );
  const totals = {
    save: { calls: 0, usec: 0 },
    floor: { calls: 0, usec: 0 },
    minimal: { calls: 0, usec: 0 },
  };
  const evalsha = async () => (await commandStats(server)).get('evalsha') ?? { calls: 0, usec: 0 };
  const measure = async (name: keyof typeof totals, run: (i: number) => Promise<unknown>) => {
    const before = await evalsha();
    for (let i = 0; i < 2_000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => run(i + j)));
    }
    const after = await evalsha();
    totals[name].calls += after.calls - before.calls;
    totals[name].usec += after.usec - before.usec;
  };
  try {
    for (let round = 0; round < 6; round++) {
      const phases = [
        () =>
          measure('save', (i) => {
            const session = sessions[i % sessions.length];
            session.data.visits = i;
            return store.save(session);
          }),
        () =>
          measure('floor', (i) =>
            redis.evalsha(
              floor,
              1,
              floorKeys[i % 100],
              '7',
              '1700000000123',
              'd:visits',
              String(i),
              '3600000',
              CHANNEL,
              message,
            ),
          ),
        () =>
          measure('minimal', (i) =>
            redis.evalsha(minimal, 1, `cost:min:${i % 100}`, 'd:visits', String(i), '3600000'),
          ),
      ];
      for (const phase of round % 2 === 0 ? phases : phases.reverse()) {
        await phase();
      }
    }
  } finally {
    subscribers.forEach((subscriber) => subscriber.disconnect());
  }
  const perCall = (name: keyof typeof totals) => totals[name].usec / totals[name].calls;
  return [
    'Redis time per script call (INFO commandstats usec_per_call, interleaved rounds, 3 subscribers)',
    `  save, one key changed, published:  ${perCall('save').toFixed(1)} µs`,
    `  the save's commands alone (floor): ${perCall('floor').toFixed(1)} µs`,
    `  minimal HSET + PEXPIRE script:      ${perCall('minimal').toFixed(1)} µs`,
    `  save / minimal: ${(perCall('save') / perCall('minimal')).toFixed(2)}x (target <= 2x); ` +
      `floor / minimal: ${(perCall('floor') / perCall('minimal')).toFixed(2)}x`,
  ];
}
