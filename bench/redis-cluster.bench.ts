import { ClusterSessionRuntime } from '../lib/cluster-session.runtime';
import { resolveOptions } from '../lib/options/resolve-options';
import { RedisSessionStore } from '../lib/store/redis-session.store';
import { RedisCluster } from '../test/support/redis-cluster';
import { waitFor } from '../test/support/wait-for';
import { compare, formatTimings } from './support/compare';
import { sessionPayload } from './support/session-payload';

const SECRET = 'benchmark-secret-of-at-least-32-characters';

/**
 * Redis Cluster (three primaries): what classic PUBLISH costs. Each invalidation is published
 * from the shard that holds the session and relayed by the cluster bus to every other node, so
 * a subscriber on any node receives it. Measured: a save that publishes against the same save
 * without publishing, bus messages per invalidation, and propagation to a node subscribed
 * elsewhere.
 */
export async function redisClusterBench(): Promise<string[]> {
  const cluster = await RedisCluster.start(3);
  const redis = { clusterNodes: cluster.nodes };
  const options = (nodeId: string) =>
    resolveOptions({ secret: SECRET, redis, cluster: { nodeId } });
  const writer = new ClusterSessionRuntime(options('writer'));
  const reader = new ClusterSessionRuntime(options('reader'));
  try {
    await writer.start();
    await reader.start();
    await waitFor(() => reader.coordinator!.isTrusted(), { what: 'the reader to subscribe' });
    const silent = new RedisSessionStore(writer.redis, writer.options); // publishes nothing
    const sessions = await Promise.all(
      Array.from({ length: 100 }, (_, i) => writer.store.create(sessionPayload(i))),
    );
    const publishes = async () => {
      let sent = 0;
      for (const server of cluster.servers) {
        const info = String(await server.command('CLUSTER', 'INFO'));
        sent += Number(/cluster_stats_messages_publish_sent:(\d+)/.exec(info)?.[1] ?? 0);
      }
      return sent;
    };
    const timings = await compare(
      [
        {
          name: 'save without publishing',
          run: (i) => {
            const session = sessions[i % sessions.length];
            session.data.visits = i;
            return silent.save(session);
          },
        },
        {
          name: 'save + classic PUBLISH (relayed by the bus)',
          run: (i) => {
            const session = sessions[i % sessions.length];
            session.data.visits = -i;
            return writer.store.save(session);
          },
        },
      ],
      { rounds: 10, batch: 1_000 },
    );
    const [plain, published] = timings;

    reader.coordinator!.resetStats();
    const busBefore = await publishes();
    const count = 2_000;
    for (let i = 0; i < count; i++) {
      const session = sessions[i % sessions.length];
      session.data.visits = i;
      await writer.store.save(session);
    }
    await waitFor(() => reader.coordinator!.stats().received >= count, {
      timeoutMs: 20_000,
      what: 'every invalidation at the reader',
    });
    const bus = (await publishes()) - busBefore;
    const { lagMs, flushes } = reader.coordinator!.stats();
    return [
      'Redis Cluster, three primaries: the cost of classic PUBLISH for invalidations',
      formatTimings(timings),
      `  save with publish / without: ${(published.nsPerOp / plain.nsPerOp).toFixed(2)}x; ` +
        `${(bus / count).toFixed(2)} cluster-bus messages per invalidation (one per other node)`,
      `  propagation to a node subscribed on another shard: p50 ${(lagMs.p50 ?? NaN).toFixed(2)} ms, ` +
        `p99 ${(lagMs.p99 ?? NaN).toFixed(2)} ms (${count.toLocaleString('en-US')} saves spread over every shard; ` +
        `${flushes} flushes from reordering)`,
    ];
  } finally {
    await reader.stop();
    await writer.stop();
    await cluster.dispose();
  }
}
