import { LRUCache } from 'lru-cache';
import { LocalCache } from '../lib';
import { RedisServer } from '../sample/support/redis-server';
import { compare, formatTimings, operationsPerContender } from './support/compare';
import { sessionPayload } from './support/session-payload';

type Session = ReturnType<typeof sessionPayload>;
const FULL = 100_000;

async function filled(maxSize: number, entries: number): Promise<LocalCache<Session>> {
  const cache = new LocalCache<Session>({ ttl: 3_600_000, maxSize });
  for (let i = 0; i < entries; i++) {
    await cache.set(`fill-${i}`, sessionPayload(i));
  }
  return cache;
}

/** Issue 2's figures: hit throughput, O(1) eviction, and a hit against a Redis GET round trip. */
export async function localCacheBench(): Promise<string[]> {
  const lines: string[] = [];
  const settings = { rounds: 15, batch: 2_000 };

  // set with eviction (cache full at 100,000) against set with room (100,000 held, never full)
  const sets = operationsPerContender(settings);
  const atCapacity = await filled(FULL, FULL);
  const belowCapacity = await filled(FULL + sets + 1, FULL);
  const payload = sessionPayload(1);
  const setTimings = await compare(
    [
      {
        name: `set, below capacity (${FULL.toLocaleString('en-US')} held)`,
        run: (i) => belowCapacity.set(`new-${i}`, payload),
      },
      {
        name: `set, at capacity (${FULL.toLocaleString('en-US')}, evicts 1)`,
        run: (i) => atCapacity.set(`new-${i}`, payload),
      },
    ],
    settings,
  );
  const evictions = atCapacity.stats().evictions;
  lines.push('LocalCache set at 100,000 entries', formatTimings(setTimings));
  lines.push(
    `  ratio at capacity / below capacity: ${(setTimings[1].nsPerOp / setTimings[0].nsPerOp).toFixed(2)}x ` +
      `(target <= 2x; ${evictions.toLocaleString('en-US')} evictions, below-capacity cache evicted ${belowCapacity.stats().evictions})`,
  );

  // a cache hit against an ioredis GET of the same session on a private local Redis
  const redisServer = await RedisServer.start();
  const redis = redisServer.client();
  try {
    const hits = await filled(10_000, 10_000);
    await redis.set('sess:bench', JSON.stringify(sessionPayload(7)));
    const readTimings = await compare(
      [
        { name: 'LocalCache.get (hit, 10,000 held)', run: (i) => hits.get(`fill-${i % 10_000}`) },
        {
          name: 'ioredis GET (private redis-server, loopback)',
          run: () => redis.get('sess:bench'),
        },
      ],
      settings,
    );
    lines.push('Cache hit against a Redis round trip', formatTimings(readTimings));
    lines.push(
      `  get-hit throughput: ${Math.round(readTimings[0].opsPerSec).toLocaleString('en-US')} ops/s; ` +
        `Redis GET / cache hit: ${(readTimings[1].nsPerOp / readTimings[0].nsPerOp).toFixed(1)}x (target >= 20x)`,
    );

    // what cache-manager and Keyv add per hit over the lru-cache they sit on (#17)
    const bare = new LRUCache<string, Session>({ max: 10_000 });
    for (let i = 0; i < 10_000; i++) {
      bare.set(`fill-${i}`, sessionPayload(i));
    }
    const layerTimings = await compare(
      [
        { name: 'LocalCache.get (hit, 10,000 held)', run: (i) => hits.get(`fill-${i % 10_000}`) },
        {
          name: 'lru-cache get, awaited (the bare store)',
          run: async (i) => bare.get(`fill-${i % 10_000}`),
        },
      ],
      settings,
    );
    const [layered, store] = layerTimings;
    lines.push(
      'Local cache layers (cache-manager over Keyv over lru-cache)',
      formatTimings(layerTimings),
    );
    lines.push(
      `  cache-manager + Keyv + TTL and freezing checks: ${Math.round(layered.nsPerOp - store.nsPerOp)} ns per hit ` +
        `(${(layered.nsPerOp / store.nsPerOp).toFixed(1)}x the bare store)`,
    );
  } finally {
    await redis.quit();
    await redisServer.dispose();
  }
  return lines;
}
