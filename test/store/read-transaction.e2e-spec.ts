import { createServer, type Server, type Socket } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { SessionStoreUnavailableError } from '../../lib/errors/session-store-unavailable.error';
import { generateSessionId } from '../../lib/session/session-id.util';
import { RedisServer } from '../../sample/support/redis-server';
import { startNode } from '../support/cluster-fixture';

/**
 * A read from Redis is a `MULTI` HGETALL PTTL TIME `EXEC` transaction on the module's own
 * connections, and a script on an instance the application passes and keeps using; either way
 * the same session, whatever the client's reply options, and never a wait past the command
 * timeout.
 */
describe('session reads from Redis', () => {
  let redis: RedisServer;
  const nodes: ClusterSessionRuntime[] = [];
  const clients: Redis[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
    clients.splice(0).forEach((client) => client.disconnect());
  });

  afterAll(async () => {
    await redis.dispose();
  });

  const client = () => {
    const made = new Redis({ port: redis.port, lazyConnect: false });
    clients.push(made);
    return made;
  };
  const node = async (...args: Parameters<typeof startNode>) => {
    const started = await startNode(...args);
    nodes.push(started);
    return started;
  };

  it("keeps the application's WATCH on an instance it shares with the module", async () => {
    const shared = client();
    const other = client();
    const writer = await node(redis.url);
    const reader = await node(shared, { cluster: { enabled: false } });
    const { id } = await writer.store.create({ n: 1 });
    await shared.set('stock', '10');

    await shared.watch('stock');
    expect((await reader.store.get(id))?.data).toEqual({ n: 1 }); // a read on the shared connection
    await other.set('stock', '0'); // a concurrent change the application's WATCH must catch
    expect(await shared.multi().set('stock', '9').exec()).toBeNull();
    expect(await other.get('stock')).toBe('0');

    // and a read made inside the application's WATCH window is not aborted by it
    await shared.watch('stock');
    await other.set('stock', '5');
    expect((await reader.store.get(id))?.data).toEqual({ n: 1 });
    await shared.unwatch();
  });

  it('answers 503, never "no session", while the application holds a MULTI open on the shared instance', async () => {
    const shared = client();
    const writer = await node(redis.url);
    const reader = await node(shared, { cluster: { enabled: false } });
    const { id } = await writer.store.create({ n: 1 });
    await shared.multi({ pipeline: false }); // MULTI sent now: what follows is queued
    await shared.set('stock', '1');
    await expect(reader.store.get(id)).rejects.toBeInstanceOf(SessionStoreUnavailableError);
    await shared.exec();
    expect((await reader.store.get(id))?.data).toEqual({ n: 1 });
  });

  // replyMapping and protocol are ioredis 6 options (ioredis 5 speaks RESP2 and ignores them)
  it.each([[{ replyMapping: 'resp3' }], [{ stringNumbers: true }], [{ protocol: 2 }]])(
    'reads the session on a connection with %j',
    async (extra) => {
      const clientOptions = extra as RedisOptions;
      const writer = await node(redis.url);
      const { id } = await writer.store.create({ n: 1, list: [1, 2] });
      const own = await node(
        { host: '127.0.0.1', port: redis.port, ...clientOptions },
        { cluster: { enabled: false } },
      );
      const mine = new Redis({ port: redis.port, ...clientOptions });
      clients.push(mine);
      const shared = await node(mine, { cluster: { enabled: false } });
      for (const reader of [own, shared]) {
        const session = await reader.store.get(id);
        expect(session?.data).toEqual({ n: 1, list: [1, 2] });
        expect(session!.expiresAt).toBeGreaterThan(Date.now());
      }
    },
  );

  it('fails within the command timeout while a Redis Cluster has not answered yet', async () => {
    // seeds that accept connections and never answer: the Cluster never gets its slot map
    const sockets = new Set<Socket>();
    const silent: Server[] = [];
    for (let i = 0; i < 3; i++) {
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      silent.push(server);
    }
    const seeds = silent.map((server) => ({
      host: '127.0.0.1',
      port: (server.address() as { port: number }).port,
    }));
    let runtime: ClusterSessionRuntime | undefined;
    try {
      runtime = await node({ clusterNodes: seeds }, { cluster: { enabled: false } });
      const started = Date.now();
      await expect(runtime.store.get(generateSessionId())).rejects.toBeInstanceOf(
        SessionStoreUnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await Promise.all(
        silent.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      );
    }
  });
});
