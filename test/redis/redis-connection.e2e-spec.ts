import Redis, { type RedisOptions } from 'ioredis';
import {
  closeRedis,
  connectRedis,
  createRedisConnection,
  createSubscriberConnection,
} from '../../lib/redis/redis-connection.factory';
import type {
  RedisConnection,
  RedisConnectionOption,
} from '../../lib/redis/redis-connection.interface';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

const PASSWORD = 'p'.repeat(24);

describe('Redis connection factory', () => {
  let server: RedisServer;
  const opened: RedisConnection[] = [];

  beforeAll(async () => {
    server = await RedisServer.start({ args: ['--requirepass', PASSWORD] });
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((connection) => closeRedis(connection)));
  });

  afterAll(async () => {
    await server.dispose();
  });

  function open(
    build: (option: RedisConnectionOption) => RedisConnection,
    option: RedisConnectionOption,
  ) {
    const connection = build(option);
    opened.push(connection);
    return connection;
  }

  /** A message published on the command connection reaches the subscriber: same server, same auth. */
  async function expectPubSubWorks(option: RedisConnectionOption): Promise<void> {
    const command = open(createRedisConnection, option);
    const subscriber = open(createSubscriberConnection, option);
    await connectRedis(command.client);
    await connectRedis(subscriber.client);
    const received: string[] = [];
    subscriber.client.on('message', (_channel: string, message: string) => received.push(message));
    await subscriber.client.subscribe('chan');
    await command.client.publish('chan', 'hello');
    await waitFor(() => received.includes('hello'), { what: 'the message on the subscriber' });
  }

  it('builds both connections from a URL with password and db', async () => {
    const url = `redis://:${PASSWORD}@127.0.0.1:${server.port}/3`;
    await expectPubSubWorks(url);
    const subscriber = open(createSubscriberConnection, url).client as Redis;
    expect(subscriber.options).toMatchObject({ password: PASSWORD, db: 3, port: server.port });
  });

  it('builds both connections from ioredis options, keeping every option', async () => {
    const options: RedisOptions = {
      port: server.port,
      password: PASSWORD,
      db: 5,
      connectionName: 'app',
      tls: undefined,
    };
    await expectPubSubWorks(options);
    const subscriber = open(createSubscriberConnection, {
      ...options,
      tls: { servername: 'redis.internal' },
    });
    expect((subscriber.client as Redis).options).toMatchObject({
      password: PASSWORD,
      db: 5,
      connectionName: 'app',
      tls: { servername: 'redis.internal' },
    });
  });

  it("uses a user's instance as it is, and duplicates it (whole configuration) for the subscriber", async () => {
    const mine = new Redis({ port: server.port, password: PASSWORD, db: 7, lazyConnect: true });
    try {
      const command = createRedisConnection(mine);
      expect(command).toEqual({ client: mine, owned: false });
      const subscriber = open(createSubscriberConnection, mine);
      expect(subscriber.owned).toBe(true);
      expect((subscriber.client as Redis).options).toMatchObject({
        password: PASSWORD,
        db: 7,
        port: server.port,
      });
      await expectPubSubWorks(mine);
      await closeRedis(command); // not owned: left open for its owner
      expect(await mine.ping()).toBe('PONG');
    } finally {
      mine.disconnect();
    }
  });

  it('sends the commands of one event-loop turn together, which Redis reads at once (auto-pipelining)', async () => {
    const { client } = open(createRedisConnection, `redis://:${PASSWORD}@127.0.0.1:${server.port}`);
    await connectRedis(client);
    const reads = async () =>
      Number(/total_reads_processed:(\d+)/.exec(await (client as Redis).info('stats'))![1]);
    const before = await reads();
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (client as Redis).hset(`burst:${i}`, 'f', i)),
    );
    const after = await reads();
    expect(replies).toEqual(Array(50).fill(1));
    // sent one by one, Redis reads them in about as many reads as there are commands (this
    // counts the second INFO as one read too)
    expect(after - before).toBeLessThanOrEqual(3);
  });

  it('fails commands fast instead of queueing them while disconnected', async () => {
    const dead = open(createRedisConnection, { port: 1, lazyConnect: true });
    const started = Date.now();
    await expect(dead.client.get('x')).rejects.toThrow(
      /enableOfflineQueue|Connection is closed|ECONNREFUSED/,
    );
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('closes owned connections and skips ones already ended', async () => {
    const connection = open(createRedisConnection, { port: server.port, password: PASSWORD });
    await connectRedis(connection.client);
    await closeRedis(connection);
    expect(connection.client.status).toBe('end');
    await expect(closeRedis(connection)).resolves.toBeUndefined();
  });
});
