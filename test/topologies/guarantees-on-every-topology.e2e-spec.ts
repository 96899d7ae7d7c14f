import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { resolveOptions } from '../../lib/options/resolve-options';
import { RedisSessionStore } from '../../lib/store/redis-session.store';
import { cachedOn, received, requestOn, startNode, TEST_SECRET } from '../support/cluster-fixture';
import { startTopology, TOPOLOGIES, type RedisTopology } from '../support/redis-topology';
import { waitFor } from '../../sample/support/wait-for';

type Data = Record<string, unknown>;

/**
 * G1–G8 on a standalone Redis, a Redis Cluster of three primaries and a Sentinel setup, each
 * with two nodes in this process. (The standalone-only suites in test/cluster and test/store go
 * further with a TCP proxy in front of one server, to order replies and messages at will.)
 */
const CASES = TOPOLOGIES.flatMap((kind) =>
  [false, true].map((encryption) => [kind, encryption] as const),
);

describe.each(CASES)('guarantees on %s Redis (encryption %s)', (kind, encryption) => {
  let topology: RedisTopology;
  let a: ClusterSessionRuntime;
  let b: ClusterSessionRuntime;

  beforeAll(async () => {
    topology = await startTopology(kind);
  }, 60_000);

  beforeEach(async () => {
    a = await startNode(topology.connection, { encryption, cluster: { nodeId: 'node-a' } });
    b = await startNode(topology.connection, { encryption, cluster: { nodeId: 'node-b' } });
    await waitFor(() => a.coordinator!.isTrusted() && b.coordinator!.isTrusted(), {
      what: 'both nodes to subscribe',
    });
  });

  afterEach(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  afterAll(async () => {
    await topology.dispose();
  });

  it('G1/G2: the writer never serves the old state; the other node stops once told', async () => {
    const sessions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.store.create({ n: i })),
    );
    for (const session of sessions) {
      await cachedOn(b, session.id);
    }
    const before = b.coordinator!.stats().received;
    for (const created of sessions) {
      const session = (await a.store.get(created.id))!;
      session.data.n = -1;
      await a.store.save(session);
      expect((await a.store.get(created.id))?.data.n).toBe(-1);
    }
    await received(b, before, sessions.length);
    // 'update' propagation (the default): b applies each change to its copy and serves it from memory
    await waitFor(() => b.store.updatesAppliedCount === sessions.length, {
      what: 'b to apply every update',
    });
    const misses = b.store.cacheStats().misses;
    for (const { id } of sessions) {
      expect((await b.store.get(id))?.data.n).toBe(-1);
    }
    expect(b.store.cacheStats().misses).toBe(misses);

    await Promise.all(sessions.map(({ id }) => a.store.destroy(id)));
    for (const { id } of sessions) {
      expect(await a.store.get(id)).toBeNull();
    }
    await received(b, before, 2 * sessions.length);
    for (const { id } of sessions) {
      expect(await b.store.get(id)).toBeNull();
    }
  });

  it('G3: reads racing saves never leave an older version cached', async () => {
    // counted from before the create: its message (a no-op) can reach b after the create returns,
    // notably over the Cluster bus, and must not stand in for the last save's
    const before = b.coordinator!.stats().received;
    const created = await a.store.create({ n: 0 });
    const session = (await a.store.get(created.id))!;
    let writing = true;
    const reads = (async () => {
      while (writing) {
        await b.store.get(created.id);
        await new Promise(setImmediate); // cache hits alone would never let the writer run
      }
    })();
    for (let n = 1; n <= 100; n++) {
      session.data.n = n;
      await a.store.save(session);
    }
    writing = false;
    await reads;
    await received(b, before, 101);
    expect((await cachedOn(b, created.id)).data.n).toBe(100);
  });

  it('G4: with the subscriber cut, nothing is served from the cache; after resubscribing, a flush', async () => {
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    const flushes = b.coordinator!.stats().flushes;
    expect(await topology.killPubSubClients()).toBeGreaterThanOrEqual(2);
    await waitFor(() => !b.coordinator!.isTrusted(), { what: 'b to distrust its cache' });
    const session = (await a.store.get(created.id))!;
    session.data.n = 2;
    await a.store.save(session);
    expect((await b.store.get(created.id))?.data.n).toBe(2);
    await waitFor(() => b.coordinator!.isTrusted(), {
      timeoutMs: 10_000,
      what: 'b to resubscribe',
    });
    expect(b.coordinator!.stats().flushes).toBeGreaterThan(flushes);
    expect((await b.store.get(created.id))?.data.n).toBe(2);
  });

  it('G5/G6: saves racing destroys never resurrect; concurrent saves of different keys both persist', async () => {
    const ids = await Promise.all(
      Array.from({ length: 30 }, async () => (await a.store.create({ n: 0 })).id),
    );
    await Promise.all(
      ids.map(async (id) => {
        const session = (await b.store.get(id))!;
        session.data.late = true;
        await Promise.all([a.store.destroy(id), b.store.save(session)]);
      }),
    );
    // G5: none came back in Redis; the destroying node at once (G1), the saving node once the
    // destroy reaches it (G2: over the cluster bus its own cached write can be newer news)
    const direct = new RedisSessionStore<Data>(a.redis, a.options);
    for (const id of ids) {
      expect(await direct.get(id)).toBeNull();
      expect(await a.store.get(id)).toBeNull();
      await waitFor(async () => (await b.store.get(id)) === null, { what: 'the destroy at b' });
    }

    const shared = await a.store.create({ base: 1 });
    const onA = (await a.store.get(shared.id))!;
    const onB = (await b.store.get(shared.id))!;
    onA.data.fromA = 'a';
    onB.data.fromB = 'b';
    await Promise.all([a.store.save(onA), b.store.save(onB)]);
    // both persist in Redis at once; each node sees the other's once its invalidation arrives (G2)
    expect((await direct.get(shared.id))?.data).toEqual({ base: 1, fromA: 'a', fromB: 'b' });
    for (const node of [a, b]) {
      await waitFor(
        async () => {
          const data = (await node.store.get(shared.id))?.data;
          return data?.fromA === 'a' && data?.fromB === 'b';
        },
        {
          what: 'both saves on every node',
        },
      );
      expect((await node.store.get(shared.id))?.data).toEqual({ base: 1, fromA: 'a', fromB: 'b' });
    }
  });

  it('G7: no node serves a session past its idle timeout', async () => {
    const short = await startNode(topology.connection, {
      encryption,
      ttl: 300,
      touchAfter: 0,
      cluster: { nodeId: 'node-short' },
    });
    try {
      const created = await short.store.create({ n: 1 });
      await cachedOn(short, created.id);
      const createdAt = Date.now();
      const goneAt = await waitFor(
        async () => ((await short.store.get(created.id)) === null ? Date.now() : 0),
        { what: 'the idle timeout' },
      );
      expect(goneAt - createdAt).toBeLessThan(300 + 200);
    } finally {
      await short.stop();
    }
  });

  it('G8: a stale copy lives at most localCacheTtl when an invalidation is lost without a sign', async () => {
    const ttl = 400;
    const c = await startNode(topology.connection, {
      encryption,
      cluster: { nodeId: 'node-c', localCacheTtl: ttl },
    });
    // a writer that does not publish: the worst case, a message lost with no gap and no disconnect
    const silent = new RedisSessionStore<Data>(
      a.redis,
      resolveOptions({ secret: TEST_SECRET, encryption }),
    );
    try {
      const created = await a.store.create({ n: 1 });
      await c.store.get(created.id);
      const cachedAt = Date.now();
      const session = (await silent.get(created.id))!;
      session.data.n = 2;
      await silent.save(session);
      const freshAt = await waitFor(
        async () => ((await c.store.get(created.id))?.data.n === 2 ? Date.now() : 0),
        { what: 'the stale copy to expire' },
      );
      expect(freshAt - cachedAt).toBeLessThanOrEqual(ttl + 100);
    } finally {
      await c.stop();
    }
  });

  it('per-user index across slots: list, regenerate, log out everywhere on every node', async () => {
    const user = `user-${kind}`;
    const sessions = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const session = await a.store.create({ i });
        session.setUser(user);
        await a.store.save(session);
        return session;
      }),
    );
    const regenerated = (await b.store.regenerate(sessions[0].id))!;
    expect(regenerated.id.slice(0, 4)).toBe(sessions[0].id.slice(0, 4)); // same hash slot
    expect(regenerated.data).toEqual({ i: 0 });
    expect(await b.store.get(sessions[0].id)).toBeNull();
    const expected = [regenerated.id, ...sessions.slice(1).map(({ id }) => id)].sort();
    expect((await a.store.listForUser(user)).sort()).toEqual(expected);
    for (const id of expected) {
      await cachedOn(b, id);
    }

    const before = b.coordinator!.stats().received;
    expect(await a.store.destroyAllForUser(user)).toBe(expected.length);
    await received(b, before, expected.length);
    for (const id of expected) {
      expect(await b.store.get(id)).toBeNull();
    }
    expect(await b.store.listForUser(user)).toEqual([]);
  });

  it('G6/G10 on the login path: regenerate keeps what another node wrote meanwhile; a regenerate of a destroyed session stores nothing', async () => {
    const session = await a.store.create({ a: 0, b: 0 });
    session.setUser(`login-${kind}`);
    await a.store.save(session);
    const login = await requestOn(a, { id: session.id, version: session.version }).load();
    const other = (await b.store.get(session.id))!;
    other.data.b = 2;
    await b.store.save(other);
    login.set('a', 1);
    await login.regenerate();
    const action = await login.commit();
    expect(action).toMatchObject({ set: login.id });
    expect((await b.store.get(login.id))?.data).toEqual({ a: 1, b: 2 });
    expect(await b.store.listForUser(`login-${kind}`)).toEqual([login.id]);

    const late = await requestOn(b, {
      id: login.id,
      version: (action as { version: number }).version,
    }).load();
    expect(await a.store.destroyAllForUser(`login-${kind}`)).toBe(1);
    await late.regenerate();
    expect(await late.commit()).toBeNull();
    expect(await a.store.get(late.id)).toBeNull();
    expect(await a.store.listForUser(`login-${kind}`)).toEqual([]);
  });

  it('clear empties Redis and every node', async () => {
    const created = await Promise.all(Array.from({ length: 10 }, () => a.store.create({ n: 1 })));
    for (const { id } of created) {
      await cachedOn(b, id);
    }
    const flushes = b.coordinator!.stats().flushes;
    await a.store.clear();
    await waitFor(() => b.coordinator!.stats().flushes > flushes, { what: 'the clear to arrive' });
    for (const { id } of created) {
      expect(await b.store.get(id)).toBeNull();
      expect(await a.store.get(id)).toBeNull();
    }
  });
});
