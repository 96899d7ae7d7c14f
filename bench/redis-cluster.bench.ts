import { ClusterSessionRuntime } from '../lib/cluster-session.runtime';
import { resolveOptions } from '../lib/options/resolve-options';
import type { RedisConnectionOption } from '../lib/redis/redis-connection.interface';
import { RedisSessionStore } from '../lib/store/redis-session.store';
import { RedisCluster } from '../test/support/redis-cluster';
import { RedisServer } from '../sample/support/redis-server';
import { waitFor } from '../sample/support/wait-for';
import { compare, formatTimings, type Timing } from './support/compare';
import { sessionPayload } from './support/session-payload';

const SECRET = 'benchmark-secret-of-at-least-32-characters';
const PROPAGATED = 2_000;

/**
 * Redis Cluster (three primaries): what classic PUBLISH costs. Each invalidation is published
 * from the shard that holds the session and relayed by the cluster bus to every other node, so
 * a subscriber on any node receives it. Measured on the Cluster and, as the baseline, on one
 * Redis: a save that publishes against the same save without publishing (two subscribed nodes
 * in this process), and propagation to the other node.
 */
export async function redisClusterBench(): Promise<string[]> {
  const server = await RedisServer.start();
  const cluster = await RedisCluster.start(3);
  try {
    const single = await publishCost(server.url);
    const busBefore = await busMessages(cluster);
    const sharded = await publishCost({ clusterNodes: cluster.nodes });
    const bus = (await busMessages(cluster)) - busBefore;
    const ratio = ([plain, published]: Timing[]) => (published.nsPerOp / plain.nsPerOp).toFixed(2);
    return [
      'Classic PUBLISH for invalidations: Redis Cluster (three primaries) against one Redis',
      '  one Redis:',
      formatTimings(single.timings),
      '  Redis Cluster:',
      formatTimings(sharded.timings),
      `  save with publish / without: ${ratio(sharded.timings)}x on the Cluster, ` +
        `${ratio(single.timings)}x on one Redis; ` +
        `${(bus / sharded.published).toFixed(2)} cluster-bus messages per invalidation`,
      `  propagation to the other node, p50 / p99: ${single.lag} on one Redis, ${sharded.lag} on the Cluster ` +
        `(${PROPAGATED.toLocaleString('en-US')} saves; Cluster flushes from reordering: ${sharded.flushes})`,
    ];
  } finally {
    await cluster.dispose();
    await server.dispose();
  }
}

async function publishCost(redis: RedisConnectionOption) {
  const options = (nodeId: string) =>
    resolveOptions({ secret: SECRET, redis, cluster: { nodeId } });
  const writer = new ClusterSessionRuntime(options('writer'));
  const reader = new ClusterSessionRuntime(options('reader'));
  try {
    await writer.start();
    await reader.start();
    await waitFor(() => reader.coordinator!.isTrusted(), { what: 'the reader to subscribe' });
    // the same store class on both sides, with and without a publisher: only PUBLISH differs
    const silent = new RedisSessionStore(writer.redis, writer.options);
    const publishing = new RedisSessionStore(writer.redis, writer.options, writer.coordinator!);
    const sessions = await Promise.all(
      Array.from({ length: 100 }, (_, i) => silent.create(sessionPayload(i))),
    );
    const save = (store: RedisSessionStore, i: number) => {
      const session = sessions[i % sessions.length];
      session.data.visits = i;
      return store.save(session);
    };
    const sentBefore = writer.coordinator!.stats().sent;
    const timings = await compare(
      [
        { name: 'save without publishing', run: (i) => save(silent, i) },
        { name: 'save + PUBLISH', run: (i) => save(publishing, i) },
      ],
      { rounds: 10, batch: 1_000 },
    );
    const published = writer.coordinator!.stats().sent - sentBefore;

    await waitFor(() => reader.coordinator!.stats().received >= published, {
      timeoutMs: 20_000,
      what: 'the reader to catch up',
    });
    reader.coordinator!.resetStats();
    for (let i = 0; i < PROPAGATED; i++) {
      await save(publishing, i);
    }
    await waitFor(() => reader.coordinator!.stats().received >= PROPAGATED, {
      timeoutMs: 20_000,
      what: 'every invalidation at the reader',
    });
    const { lagMs, flushes } = reader.coordinator!.stats();
    const ms = (value: number | null) => `${(value ?? NaN).toFixed(2)} ms`;
    return {
      timings,
      published: published + PROPAGATED,
      lag: `${ms(lagMs.p50)} / ${ms(lagMs.p99)}`,
      flushes,
    };
  } finally {
    await reader.stop();
    await writer.stop();
  }
}

async function busMessages(cluster: RedisCluster): Promise<number> {
  let sent = 0;
  for (const server of cluster.servers) {
    const info = String(await server.command('CLUSTER', 'INFO'));
    sent += Number(/cluster_stats_messages_publish_sent:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return sent;
}
