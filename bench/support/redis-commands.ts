import { CLOCK, PUBLISHING, SLICES } from '../../lib/redis/scripts/prelude.lua';
import { CREATE, UPDATE } from '../../lib/redis/scripts/save.lua';
import { TOUCH } from '../../lib/redis/scripts/touch.lua';
import { DESTROY } from '../../lib/redis/scripts/destroy.lua';
import { REGENERATE } from '../../lib/redis/scripts/regenerate.lua';
import { INDEX_ADD, INDEX_LIST } from '../../lib/redis/scripts/user-index.lua';
import type { RedisServer } from '../../sample/support/redis-server';

/** Commands our Lua scripts run: Redis 7 counts them in commandstats too, though they cost no round trip. */
const INSIDE_SCRIPTS = new Set(
  [
    ...[
      CLOCK,
      SLICES,
      PUBLISHING,
      CREATE,
      UPDATE,
      TOUCH,
      DESTROY,
      REGENERATE,
      INDEX_ADD,
      INDEX_LIST,
    ]
      .join('\n')
      .matchAll(/redis\.call\('(\w+)'/g),
  ].map(([, name]) => name.toLowerCase()),
);
/**
 * This module's read is one transaction, `MULTI` HGETALL PTTL TIME `EXEC`, counted as one round
 * trip: its `EXEC`.
 */
const IN_READS = new Set(['multi', 'hgetall', 'pttl', 'time']);
/** Commands the benchmark itself sends to read the counters. */
const OBSERVER = new Set(['info', 'config']);

/**
 * Commands clients sent to Redis so far, from `INFO commandstats`: every command, minus those
 * run inside our scripts (a script is one EVALSHA round trip), those of our reads' transactions
 * but their `EXEC`, and the benchmark's own.
 * The peers run no scripts, so for them this is every command they sent.
 */
export async function clientCommands(redis: RedisServer): Promise<number> {
  const stats = await commandStats(redis);
  const scripts = stats.has('eval') || stats.has('evalsha');
  let calls = 0;
  for (const [name, { calls: count }] of stats) {
    if (OBSERVER.has(name) || (scripts && (INSIDE_SCRIPTS.has(name) || IN_READS.has(name)))) {
      continue;
    }
    calls += count;
  }
  return calls;
}

/** `INFO commandstats`, by command: calls so far and the microseconds Redis spent in them. */
export async function commandStats(
  redis: Pick<RedisServer, 'command'>,
): Promise<Map<string, { calls: number; usec: number }>> {
  const info = String(await redis.command('INFO', 'commandstats'));
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const [, name, calls, usec] of info.matchAll(/cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/g)) {
    stats.set(name, { calls: Number(calls), usec: Number(usec) });
  }
  return stats;
}
