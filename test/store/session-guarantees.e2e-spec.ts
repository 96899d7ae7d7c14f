import { RedisServer } from '../../sample/support/redis-server';
import { openStore, type StoreFixture } from '../support/store-fixture';
import { waitFor } from '../../sample/support/wait-for';
import { sessionKey } from '../../lib/store/session-keys';

type Data = Record<string, unknown>;

describe('RedisSessionStore: guarantees G5, G6, G7', () => {
  let server: RedisServer;
  let nodeA: StoreFixture<Data>;
  let nodeB: StoreFixture<Data>;

  beforeAll(async () => {
    server = await RedisServer.start();
    nodeA = await openStore(server);
    nodeB = await openStore(server);
  });

  afterAll(async () => {
    await Promise.all([nodeA.close(), nodeB.close()]);
    await server.dispose();
  });

  it('G5: a save after a destroy does not bring the session back', async () => {
    const created = await nodeA.store.create({ user: 'ann' });
    const inFlight = await nodeB.store.get(created.id);
    await nodeA.store.destroy(created.id);

    inFlight!.data.user = 'resurrected?';
    expect(await nodeB.store.save(inFlight!)).toBe(false);
    expect(await nodeA.store.get(created.id)).toBeNull();
    expect(await nodeA.redis.exists(sessionKey('sess:', created.id))).toBe(0);
  });

  it('G5: saves racing destroys on two connections never resurrect a session', async () => {
    const rounds = 200;
    const ids = await Promise.all(
      Array.from({ length: rounds }, async (_, i) => (await nodeA.store.create({ n: i })).id),
    );
    const loaded = await Promise.all(ids.map((id) => nodeB.store.get(id)));
    await Promise.all(
      loaded.flatMap((session, i) => {
        session!.data.n = -1;
        const save = nodeB.store.save(session!);
        const destroy = nodeA.store.destroy(ids[i]);
        return i % 2 ? [save, destroy] : [destroy, save];
      }),
    );
    const survivors = await Promise.all(
      ids.map((id) => nodeA.redis.exists(sessionKey('sess:', id))),
    );
    expect(survivors.filter(Boolean)).toHaveLength(0);
  });

  it('G6: concurrent saves of different keys on two connections both persist', async () => {
    for (let round = 0; round < 50; round++) {
      const created = await nodeA.store.create({ a: 0, b: 0, shared: 'x' });
      const [onA, onB] = await Promise.all([
        nodeA.store.get(created.id),
        nodeB.store.get(created.id),
      ]);
      onA!.data.a = round + 1;
      onB!.data.b = round + 1;
      const results = await Promise.all([nodeA.store.save(onA!), nodeB.store.save(onB!)]);
      expect(results).toEqual([true, true]);

      const merged = await nodeA.store.get(created.id);
      expect(merged?.data).toEqual({ a: round + 1, b: round + 1, shared: 'x' });
      expect(merged?.version).toBe(3);
    }
  });

  it('G7: a session is not served past its idle timeout', async () => {
    const idle = await openStore(server, { keyPrefix: 'idle:', ttl: 300, touchAfter: 0 });
    try {
      const session = await idle.store.create({ user: 'idle' });
      expect(await idle.store.get(session.id)).not.toBeNull();
      const expiredAt = await waitFor(
        async () => ((await idle.store.get(session.id)) === null ? Date.now() : 0),
        { what: 'the idle timeout' },
      );
      expect(expiredAt).toBeGreaterThanOrEqual(session.expiresAt - 50);
    } finally {
      await idle.close();
    }
  });

  it('G7: touches and saves never extend a session past its absolute timeout', async () => {
    const absolute = 600;
    const fixture = await openStore(server, {
      keyPrefix: 'abs:',
      ttl: 10_000,
      absoluteTimeout: absolute,
      touchAfter: 0,
    });
    try {
      const session = await fixture.store.create({ n: 0 });
      const started = Date.now();
      let served = 0;
      for (;;) {
        const current = await fixture.store.get(session.id);
        if (!current) {
          break;
        }
        served = Date.now();
        current.data.n = Number(current.data.n) + 1;
        await fixture.store.save(current);
        await fixture.store.touch(session.id);
        expect(Date.now() - started).toBeLessThan(absolute + 2_000);
      }
      expect(served - started).toBeLessThan(absolute + 50);
      expect(await fixture.store.save(session)).toBe(false);
      expect(await fixture.redis.exists(`abs:${session.id}`)).toBe(0);
    } finally {
      await fixture.close();
    }
  });

  it('G7: a hash whose absolute deadline has passed is not served, whatever its TTL', async () => {
    const session = await nodeA.store.create({ user: 'late' });
    await nodeA.redis.hset(sessionKey('sess:', session.id), 'expires', String(Date.now() - 1_000));
    expect(await nodeA.store.get(session.id)).toBeNull();
  });
});
