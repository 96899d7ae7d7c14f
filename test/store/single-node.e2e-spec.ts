import type { Redis } from 'ioredis';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { startNode } from '../support/cluster-fixture';

/**
 * `cluster.enabled: false` (one node, no Pub/Sub): the coordinator and the cache still exist,
 * disabled, and say so; sessions work as on a cluster; nothing is published. With
 * `localCacheEnabled: true` as well, the node caches and its own writes and `clear()` keep the
 * cache right.
 */
describe('a single node (cluster.enabled: false)', () => {
  let server: RedisServer;
  let listener: Redis;
  const published: string[] = [];
  const nodes: ClusterSessionRuntime[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    listener = server.client();
    await listener.subscribe('session:cluster:invalidate');
    listener.on('message', (_channel: string, message: string) => published.push(message));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    listener.disconnect();
    await server.dispose();
  });

  async function node(localCacheEnabled?: boolean): Promise<ClusterSessionRuntime> {
    const started = await startNode(server.url, { cluster: { enabled: false, localCacheEnabled } });
    nodes.push(started);
    return started;
  }

  it('has a disabled coordinator and cache that say so, publishes nothing, and keeps sessions', async () => {
    const single = await node();
    expect(single.coordinator.enabled).toBe(false);
    expect(single.cache.enabled).toBe(false);
    expect(single.coordinator.isTrusted()).toBe(true);

    const session = await single.store.create({ n: 1 });
    session.data.n = 2;
    session.setUser('ann');
    expect(await single.store.save(session)).toBe(true);
    const moved = await single.store.regenerate(session.id);
    expect(moved?.data).toEqual({ n: 2 });
    expect(await single.store.get(session.id)).toBeNull();
    expect(await single.store.listForUser('ann')).toEqual([moved!.id]);
    expect(await single.store.destroyAllForUser('ann')).toBe(1);
    expect(await single.store.get(moved!.id)).toBeNull();

    // a marker written after the node's writes arrives after any message they could have sent
    await single.redis.publish('session:cluster:invalidate', 'marker');
    await waitFor(() => published.includes('marker'), { what: 'the marker' });
    expect(published).toEqual(['marker']);
    expect(single.store.cacheStats()).toEqual({
      hits: 0,
      misses: 0,
      evictions: 0,
      size: 0,
      hitRate: 0,
    });
  });

  it('with localCacheEnabled, serves its own writes from the cache, and clear() empties it', async () => {
    const single = await node(true);
    expect(single.cache.enabled).toBe(true);
    const session = await single.store.create({ n: 1 });
    expect((await single.store.get(session.id))?.data).toEqual({ n: 1 });
    expect(single.store.cacheStats().hits).toBe(1);
    session.data.n = 2;
    await single.store.save(session);
    expect((await single.store.get(session.id))?.data).toEqual({ n: 2 });
    expect(single.store.cacheStats().hits).toBe(2);

    await single.store.clear();
    expect(single.store.cacheStats().size).toBe(0);
    expect(await single.store.get(session.id)).toBeNull();
  });
});
