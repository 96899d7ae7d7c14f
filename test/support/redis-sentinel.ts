import type { RedisOptions } from 'ioredis';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

export const SENTINEL_PRIMARY_NAME = 'ncs-primary';

/**
 * A private Sentinel setup on free ports: one primary, one replica, one sentinel watching them
 * (quorum 1, down after 1 s); `failover()` runs `SENTINEL FAILOVER` and waits for the switch.
 */
export class RedisSentinelSetup {
  private constructor(
    readonly primary: RedisServer,
    readonly replica: RedisServer,
    readonly sentinel: RedisServer,
  ) {}

  static async start(): Promise<RedisSentinelSetup> {
    const started: RedisServer[] = [];
    try {
      const primary = await RedisServer.start();
      started.push(primary);
      const replica = await RedisServer.start({
        args: ['--replicaof', '127.0.0.1', String(primary.port)],
      });
      started.push(replica);
      await waitFor(
        async () =>
          /master_link_status:up/.test(String(await replica.command('INFO', 'replication'))),
        { timeoutMs: 10_000, intervalMs: 50, what: 'the replica to sync with the primary' },
      );
      const name = SENTINEL_PRIMARY_NAME;
      const sentinel = await RedisServer.start({
        sentinel: [
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
        ],
      });
      started.push(sentinel);
      const setup = new RedisSentinelSetup(primary, replica, sentinel);
      // the sentinel learns of the replica from the primary's INFO: failover needs it
      await waitFor(
        async () =>
          ((await sentinel.command('SENTINEL', 'REPLICAS', name)) as unknown[]).length > 0,
        { timeoutMs: 20_000, intervalMs: 100, what: 'the sentinel to discover the replica' },
      );
      return setup;
    } catch (error) {
      await Promise.all(started.map((server) => server.dispose()));
      throw error;
    }
  }

  /** The module's `redis` option for this setup. */
  get options(): RedisOptions {
    return {
      sentinels: [{ host: '127.0.0.1', port: this.sentinel.port }],
      name: SENTINEL_PRIMARY_NAME,
    };
  }

  /** The server the sentinel names as primary now. */
  async currentPrimary(): Promise<RedisServer> {
    const [, port] = (await this.sentinel.command(
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      SENTINEL_PRIMARY_NAME,
    )) as [string, string];
    return Number(port) === this.primary.port ? this.primary : this.replica;
  }

  /** `SENTINEL FAILOVER`, then waits until the other server is primary and says so itself. */
  async failover(): Promise<RedisServer> {
    const before = await this.currentPrimary();
    const after = before === this.primary ? this.replica : this.primary;
    await this.sentinel.command('SENTINEL', 'FAILOVER', SENTINEL_PRIMARY_NAME);
    await waitFor(
      async () =>
        (await this.currentPrimary()) === after &&
        /role:master/.test(String(await after.command('INFO', 'replication'))),
      { timeoutMs: 20_000, intervalMs: 50, what: 'the sentinel failover to complete' },
    );
    return after;
  }

  /** Closes every Pub/Sub connection on both data servers; resolves to how many. */
  async killPubSubClients(): Promise<number> {
    return (await this.primary.killPubSubClients()) + (await this.replica.killPubSubClients());
  }

  async dispose(): Promise<void> {
    await Promise.all([this.sentinel, this.replica, this.primary].map((s) => s.dispose()));
  }
}
