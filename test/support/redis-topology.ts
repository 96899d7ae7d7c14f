import type { Cluster, Redis } from 'ioredis';
import type { RedisConnectionOption } from '../../lib/redis/redis-connection.interface';
import { RedisCluster } from './redis-cluster';
import { RedisSentinelSetup } from './redis-sentinel';
import { RedisServer } from '../../sample/support/redis-server';

export type TopologyKind = 'standalone' | 'cluster' | 'sentinel';

/** One way to run Redis, as the suites that must hold on every one of them see it. */
export interface RedisTopology {
  kind: TopologyKind;
  /** The module's `redis` option. */
  connection: RedisConnectionOption;
  /** A raw client for looking into Redis; the caller closes it. */
  client(): Redis | Cluster;
  killPubSubClients(): Promise<number>;
  dispose(): Promise<void>;
}

export const TOPOLOGIES: TopologyKind[] = ['standalone', 'cluster', 'sentinel'];

export async function startTopology(kind: TopologyKind): Promise<RedisTopology> {
  switch (kind) {
    case 'standalone': {
      const server = await RedisServer.start();
      return {
        kind,
        connection: server.url,
        client: () => server.client(),
        killPubSubClients: () => server.killPubSubClients(),
        dispose: () => server.dispose(),
      };
    }
    case 'cluster': {
      const cluster = await RedisCluster.start(3);
      return {
        kind,
        connection: { clusterNodes: cluster.nodes },
        client: () => cluster.client(),
        killPubSubClients: () => cluster.killPubSubClients(),
        dispose: () => cluster.dispose(),
      };
    }
    case 'sentinel': {
      const setup = await RedisSentinelSetup.start();
      return {
        kind,
        connection: setup.options,
        client: () => setup.primary.client(),
        killPubSubClients: () => setup.killPubSubClients(),
        dispose: () => setup.dispose(),
      };
    }
  }
}
