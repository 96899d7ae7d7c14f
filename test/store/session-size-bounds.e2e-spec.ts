import type { Redis } from 'ioredis';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { SessionTooLargeError } from '../../lib/errors/session-too-large.error';
import { startNode } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

describe('#14 review: bad input', () => {
  let server: RedisServer;
  let redis: Redis;
  let a: ClusterSessionRuntime;
  let b: ClusterSessionRuntime;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = server.client();
    a = await startNode(server.url, { maxSessionBytes: 1_000, cluster: { nodeId: 'a' } });
    b = await startNode(server.url, { maxSessionBytes: 1_000, cluster: { nodeId: 'b' } });
    await waitFor(() => a.coordinator!.isTrusted() && b.coordinator!.isTrusted());
  });

  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    redis.disconnect();
    await server.dispose();
  });

  it('maxSessionBytes: a session that concurrent delta saves took past the limit can still be saved, but not grown', async () => {
    const created = await a.store.create({ n: 1 });
    const onA = (await a.store.get(created.id))!;
    const onB = (await b.store.get(created.id))!;
    onA.data.x = 'x'.repeat(700); // each request's view: ~720 bytes < 1,000
    onB.data.y = 'y'.repeat(700);
    await a.store.save(onA);
    await b.store.save(onB); // G6: both persist, ~1,400 bytes together

    const next = (await a.store.get(created.id))!;
    next.data.n = 2; // not larger: saved
    await expect(a.store.save(next)).resolves.toBe(true);
    const grown = (await b.store.get(created.id))!;
    grown.data.z = 'z';
    await expect(b.store.save(grown)).rejects.toBeInstanceOf(SessionTooLargeError);
    const shrunk = (await b.store.get(created.id))!;
    delete shrunk.data.y;
    shrunk.data.z = 'z';
    await expect(b.store.save(shrunk)).resolves.toBe(true);
    expect((await b.store.get(created.id))?.data).toEqual({ n: 2, x: 'x'.repeat(700), z: 'z' });
  });

  it('a save refused before it is sent (too large) does not stop the node caching the session', async () => {
    const created = await a.store.create({ n: 1 });
    const session = (await b.store.get(created.id))!;
    session.data.big = 'z'.repeat(5_000);
    await expect(b.store.save(session)).rejects.toBeInstanceOf(SessionTooLargeError);
    // nothing was written: the next reads should be cache hits again
    for (let i = 0; i < 5; i++) {
      await b.store.get(created.id);
    }
    const before = b.store.cacheStats().hits;
    for (let i = 0; i < 5; i++) {
      await b.store.get(created.id);
    }
    expect(b.store.cacheStats().hits - before).toBe(5);
  });
});
