import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LocalCache } from '../lib/cache/local-cache';
import type { CachedSession } from '../lib/store/clustered-redis.store';
import type { SessionSnapshot } from '../lib/store/session-codec';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Issue 8's memory figure: heap bytes per cached session, for sessions of about 1 KB of JSON. */
export async function memoryBench(): Promise<string[]> {
  const COUNT = 10_000;
  const snapshot = (i: number): SessionSnapshot => ({
    version: 1,
    createdAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
    touchedAt: Date.now(),
    userId: `user-${i}`,
    fields: [
      ['d:username', JSON.stringify(`user${i}@example.com`)],
      ['d:profile', JSON.stringify({ bio: 'x'.repeat(700), i })],
      [
        'd:cart',
        JSON.stringify({
          items: [
            { sku: `A-${i}`, qty: 2 },
            { sku: 'B-200', qty: 1 },
          ],
        }),
      ],
      [
        'd:preferences',
        JSON.stringify({ theme: 'dark', locale: 'en-GB', timezone: 'Europe/Berlin' }),
      ],
    ],
  });
  const bytes = snapshot(0).fields.reduce(
    (sum, [field, json]) => sum + field.length + json.length,
    0,
  );
  const cache = new LocalCache<CachedSession>({ ttl: 3_600_000, maxSize: COUNT });
  gc();
  const before = process.memoryUsage().heapUsed;
  // each snapshot is garbage once stored: the cache keeps its own frozen copy
  for (let i = 0; i < COUNT; i++) {
    await cache.set(`session-${i}`.padEnd(43, 'x'), {
      snapshot: snapshot(i),
      generation: 1,
      filledAt: Date.now(),
    });
  }
  gc();
  const perSession = (process.memoryUsage().heapUsed - before) / COUNT;
  const held = cache.stats().size; // also keeps the cache alive through the measurement
  if (held !== COUNT) {
    throw new Error(`expected ${COUNT} cached sessions, found ${held}`);
  }
  return [
    `Memory: ${COUNT.toLocaleString('en-US')} cached sessions of ${bytes} bytes of JSON each: ` +
      `${Math.round(perSession).toLocaleString('en-US')} heap bytes per cached session ` +
      `(${(perSession / bytes).toFixed(1)}× the JSON; ${((perSession * COUNT) / 1e6).toFixed(1)} MB for ${COUNT.toLocaleString('en-US')})`,
  ];
}
