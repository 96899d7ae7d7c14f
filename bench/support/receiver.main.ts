import { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { resolveOptions } from '../../lib/options/resolve-options';
import { TEST_SECRET } from '../../test/support/cluster-fixture';

/**
 * A node that only receives, for bench/message-cost.bench.ts: one runtime of this module on
 * REDIS_URL (propagation PROPAGATION), driven over IPC: `{ read: ids }` caches those sessions,
 * `{ measure: true }` answers its CPU time so far (µs; and of it in the kernel) and its message counters.
 */
async function main(): Promise<void> {
  const node = new ClusterSessionRuntime(
    resolveOptions({
      secret: TEST_SECRET,
      redis: process.env.REDIS_URL,
      cluster: {
        nodeId: 'receiver',
        propagation: process.env.PROPAGATION === 'invalidate' ? 'invalidate' : 'update',
        localCacheTtl: 600_000,
      },
    }),
  );
  await node.start();
  process.on('message', (message: { read?: string[]; measure?: boolean; stop?: boolean }) => {
    void (async () => {
      if (message.read) {
        for (const id of message.read) {
          await node.store.get(id);
        }
        process.send!({ cached: node.store.cacheStats().size });
      } else if (message.measure) {
        const { user, system } = process.cpuUsage();
        const { received, ignored } = node.coordinator.stats();
        process.send!({ cpu: user + system, system, received, ignored });
      } else if (message.stop) {
        await node.stop();
        process.exit(0);
      }
    })();
  });
  process.send!({ ready: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
