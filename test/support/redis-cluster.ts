import { spawnSync } from 'node:child_process';
import { Cluster, type ClusterOptions } from 'ioredis';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

const CLUSTER_ARGS = [
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  'nodes.conf',
  '--cluster-node-timeout',
  '2000',
  // with no replicas, a stopped primary would otherwise take the whole cluster down
  '--cluster-require-full-coverage',
  'no',
];

/**
 * A private Redis Cluster of `size` primaries (no replicas) on free ports, created with
 * `redis-cli --cluster create`; can move a slot between primaries while clients run.
 */
export class RedisCluster {
  private constructor(readonly servers: RedisServer[]) {}

  static async start(size = 3): Promise<RedisCluster> {
    const servers: RedisServer[] = [];
    try {
      for (let i = 0; i < size; i++) {
        servers.push(await RedisServer.start({ args: CLUSTER_ARGS }));
      }
      const cluster = new RedisCluster(servers);
      cluster.create();
      await cluster.waitUntilStable();
      return cluster;
    } catch (error) {
      await Promise.all(servers.map((server) => server.dispose()));
      throw error;
    }
  }

  /** Seed nodes, as the module's `redis: { clusterNodes }` takes them. */
  get nodes(): { host: string; port: number }[] {
    return this.servers.map(({ port }) => ({ host: '127.0.0.1', port }));
  }

  /** A new ioredis Cluster client; the caller closes it. */
  client(options: ClusterOptions = {}): Cluster {
    return new Cluster(this.nodes, {
      ...options,
      redisOptions: { disconnectTimeout: 50, ...options.redisOptions },
    });
  }

  /** Closes every Pub/Sub connection on every node; resolves to how many. */
  async killPubSubClients(): Promise<number> {
    const killed = await Promise.all(this.servers.map((server) => server.killPubSubClients()));
    return killed.reduce((sum, n) => sum + n, 0);
  }

  /** Index in `servers` of the primary serving `slot`. */
  async ownerOf(slot: number): Promise<number> {
    const shards = (await this.servers[0].command('CLUSTER', 'SLOTS')) as [
      number,
      number,
      [string, number],
    ][];
    const shard = shards.find(([from, to]) => slot >= from && slot <= to);
    if (!shard) {
      throw new Error(`slot ${slot} is not served`);
    }
    return this.servers.findIndex(({ port }) => port === Number(shard[2][1]));
  }

  /**
   * Moves `slot` and its keys to `servers[to]`, the way `redis-cli --cluster reshard` does:
   * IMPORTING/MIGRATING, then MIGRATE a few keys at a time (clients meanwhile get ASK and
   * TRYAGAIN replies), then the new owner is announced to every node.
   */
  async migrateSlot(
    slot: number,
    to: number,
    { keysPerStep = 1, afterStep = async () => {} } = {},
  ): Promise<number> {
    const from = await this.ownerOf(slot);
    if (from === to) {
      return 0;
    }
    const source = this.servers[from];
    const target = this.servers[to];
    const sourceId = String(await source.command('CLUSTER', 'MYID'));
    const targetId = String(await target.command('CLUSTER', 'MYID'));
    await target.command('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId);
    await source.command('CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId);
    let moved = 0;
    for (;;) {
      const keys = (await source.command(
        'CLUSTER',
        'GETKEYSINSLOT',
        slot,
        keysPerStep,
      )) as string[];
      if (keys.length === 0) {
        break;
      }
      await source.command('MIGRATE', '127.0.0.1', target.port, '', 0, 5_000, 'KEYS', ...keys);
      moved += keys.length;
      await afterStep(); // e.g. let clients run against the half-moved slot
    }
    await target.command('CLUSTER', 'SETSLOT', slot, 'NODE', targetId);
    await source.command('CLUSTER', 'SETSLOT', slot, 'NODE', targetId);
    for (const server of this.servers) {
      if (server !== source && server !== target) {
        await server.command('CLUSTER', 'SETSLOT', slot, 'NODE', targetId);
      }
    }
    return moved;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.dispose()));
  }

  private create(): void {
    const cli = process.env.REDIS_CLI_BIN ?? 'redis-cli';
    const result = spawnSync(
      cli,
      [
        '--cluster',
        'create',
        ...this.servers.map(({ port }) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (result.error || result.status !== 0) {
      throw new Error(
        `redis-cli --cluster create failed (${result.error?.message ?? result.status}): ` +
          `${result.stdout ?? ''}${result.stderr ?? ''}`.slice(-2_000) +
          ' (redis-cli comes with redis-server: `apt-get install -y redis-server`, or set REDIS_CLI_BIN)',
      );
    }
  }

  private async waitUntilStable(): Promise<void> {
    await waitFor(
      async () => {
        for (const server of this.servers) {
          const info = String(await server.command('CLUSTER', 'INFO'));
          if (!/cluster_state:ok/.test(info) || !/cluster_known_nodes:(\d+)/.test(info)) {
            return false;
          }
          if (Number(/cluster_known_nodes:(\d+)/.exec(info)![1]) !== this.servers.length) {
            return false;
          }
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 50, what: 'the Redis Cluster to be ok on every node' },
    );
  }
}
