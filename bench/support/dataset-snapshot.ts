import type { RedisServer } from '../../sample/support/redis-server';

/** Every key of a Redis as `DUMP` serialized it, with its remaining time to live (0: none). */
export type Snapshot = { key: Buffer; pttl: number; value: Buffer }[];

/**
 * The dataset before a recording. A replayed command must find what the recorded one found: a
 * save replayed on a missing session takes the cheaper "gone" path, and a replayed read the
 * empty one. DUMP/RESTORE copies values exactly, in any Redis with no persistence configured.
 */
export async function snapshot(redis: RedisServer): Promise<Snapshot> {
  const client = redis.client();
  try {
    const keys: Buffer[] = [];
    let cursor = '0';
    do {
      const [next, found] = await client.scanBuffer(cursor, 'COUNT', 1_000);
      cursor = next.toString();
      keys.push(...found);
    } while (cursor !== '0');
    const pipeline = client.pipeline();
    keys.forEach((key) => pipeline.pttl(key).dumpBuffer(key));
    const replies = (await pipeline.exec()) ?? [];
    return keys.map((key, i) => ({
      key,
      pttl: Math.max(0, Number(replies[2 * i][1])),
      value: replies[2 * i + 1][1] as Buffer,
    }));
  } finally {
    client.disconnect();
  }
}

/**
 * Puts the dataset back as it was (FLUSHALL, then RESTORE each key) and loads `scripts` into
 * the script cache, so that replayed EVALSHAs run rather than fail with NOSCRIPT.
 */
export async function restore(
  redis: RedisServer,
  dataset: Snapshot,
  scripts: string[],
): Promise<void> {
  const client = redis.client();
  try {
    await client.flushall('SYNC');
    const pipeline = client.pipeline();
    dataset.forEach(({ key, pttl, value }) => pipeline.restore(key, pttl, value, 'REPLACE'));
    scripts.forEach((lua) => pipeline.script('LOAD', lua));
    const failed = ((await pipeline.exec()) ?? []).find(([error]) => error);
    if (failed) {
      throw failed[0];
    }
    if ((await client.dbsize()) !== dataset.length) {
      throw new Error('dataset restore: key count differs from the snapshot');
    }
  } finally {
    client.disconnect();
  }
}
