import { ClusterSessionRuntime } from '../lib/cluster-session.runtime';
import type { LagStats } from '../lib/cluster/lag-recorder';
import { resolveOptions } from '../lib/options/resolve-options';
import { roundTrips, TEST_SECRET } from '../test/support/cluster-fixture';
import { NodeProcess } from '../test/support/node-process';
import { RedisServer } from '../sample/support/redis-server';

const ms = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(2)} ms`);

/**
 * Issue 4's figures. Propagation: process A saves one session 5,000 times while process B reads
 * other sessions as fast as it can; B's coordinator measures each invalidation from the Redis
 * timestamp in the message to its arrival. Commands per read: one node, 1,000 sessions read
 * uniformly at random through a 900-entry cache (so about 90 % hit), counting the scripts Redis
 * ran (EVAL + EVALSHA) per read.
 */
export async function clusterBench(): Promise<string[]> {
  const server = await RedisServer.start();
  const lines: string[] = [];
  try {
    const [a, b] = await Promise.all([
      NodeProcess.start(server.url, 'bench-a'),
      NodeProcess.start(server.url, 'bench-b'),
    ]);
    try {
      const writeId = await a.request<string>({ op: 'create', data: { n: 0 } });
      const readIds = await Promise.all(
        Array.from({ length: 100 }, () => a.request<string>({ op: 'create', data: { n: 0 } })),
      );
      const lagOfB = async () =>
        (await b.request<{ cluster: { lagMs: LagStats } }>({ op: 'stats' })).cluster.lagMs;
      await a.request<number>({ op: 'writes', id: writeId, count: 1_000 }); // warm-up (JIT)
      await b.request({ op: 'resetStats' });
      await a.request<number>({ op: 'writes', id: writeId, count: 2_000 });
      const idle = await lagOfB();
      await b.request({ op: 'resetStats' });
      const [, reads] = await Promise.all([
        a.request<number>({ op: 'writes', id: writeId, count: 5_000 }),
        b.request<number>({ op: 'reads', ids: readIds, ms: 3_000 }),
      ]);
      const loaded = await lagOfB();
      lines.push(
        'Invalidation propagation between two processes (loopback), from the Redis timestamp to arrival at B',
        `  B idle:                                 p50 ${ms(idle.p50)}, p99 ${ms(idle.p99)} (2,000 invalidations)`,
        `  B serving ${reads.toLocaleString('en-US')} reads meanwhile: p50 ${ms(loaded.p50)}, p99 ${ms(loaded.p99)} ` +
          '(last 4,096 of 5,000 invalidations; target p99 < 5 ms)',
      );
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }

    const node = new ClusterSessionRuntime(
      resolveOptions({
        secret: TEST_SECRET,
        redis: server.url,
        cluster: { localCacheMaxSize: 900 },
      }),
    );
    await node.start();
    try {
      const ids = await Promise.all(
        Array.from({ length: 1_000 }, async (_, i) => (await node.store.create({ i })).id),
      );
      for (let i = 0; i < 20_000; i++) {
        await node.store.get(ids[Math.floor(Math.random() * ids.length)]); // warm up
      }
      node.store.resetCacheStats();
      const before = await roundTrips(node);
      const READS = 50_000;
      for (let i = 0; i < READS; i++) {
        await node.store.get(ids[Math.floor(Math.random() * ids.length)]);
      }
      const scripts = (await roundTrips(node)) - before;
      const { hitRate } = node.store.cacheStats();
      lines.push(
        'Redis commands per read (one node, 1,000 sessions, 900-entry cache, uniform reads)',
        `  hit rate ${(hitRate * 100).toFixed(1)} %: ${(scripts / READS).toFixed(3)} Redis commands per read ` +
          `(${scripts} scripts for ${READS.toLocaleString('en-US')} reads; target <= 0.12 at 90 %)`,
      );
    } finally {
      await node.stop();
    }
  } finally {
    await server.dispose();
  }
  return lines;
}
