import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { MessageAuthenticator } from '../../lib/cluster/message-auth';
import { resolveOptions } from '../../lib/options/resolve-options';
import { RedisSessionStore } from '../../lib/store/redis-session.store';
import {
  cachedOn,
  received,
  roundTrips,
  signedMessage,
  startNode,
  TEST_SECRET,
} from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../../sample/support/wait-for';

type Data = Record<string, unknown>;
const CHANNEL = 'session:cluster:invalidate';
const SCOPE = { channel: CHANNEL, keyPrefix: 'sess:' };

describe('cluster coordination (several nodes in one process)', () => {
  let server: RedisServer;
  let a: ClusterSessionRuntime;
  let b: ClusterSessionRuntime;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  beforeEach(async () => {
    a = await startNode(server.url, { cluster: { nodeId: 'node-a' } });
    b = await startNode(server.url, { cluster: { nodeId: 'node-b' } });
  });

  afterEach(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('serves repeated reads from the local cache, without Redis', async () => {
    const created = await a.store.create({ user: 'ann' });
    await cachedOn(b, created.id);
    const before = await roundTrips(b);
    const hits = b.store.cacheStats().hits;
    for (let i = 0; i < 20; i++) {
      expect((await b.store.get(created.id))?.data).toEqual({ user: 'ann' });
    }
    expect(await roundTrips(b)).toBe(before);
    expect(b.store.cacheStats().hits).toBe(hits + 20);
  });

  it('G1: after a save or destroy returns, the writing node never serves the old state', async () => {
    const session = (await a.store.get((await a.store.create({ n: 0 })).id))!;
    for (let n = 1; n <= 20; n++) {
      session.data.n = n;
      await a.store.save(session);
      expect((await a.store.get(session.id))?.data.n).toBe(n);
    }
    await a.store.destroy(session.id);
    expect(await a.store.get(session.id)).toBeNull();
  });

  it("does not re-apply its own invalidations: a node's write stays cached", async () => {
    const session = await a.store.create({ n: 1 });
    const before = a.coordinator!.stats().received;
    session.data.n = 2;
    await a.store.save(session);
    await received(a, before);
    const hits = a.store.cacheStats().hits;
    expect((await a.store.get(session.id))?.data.n).toBe(2);
    expect(a.store.cacheStats().hits).toBe(hits + 1);
  });

  it('G2: another node stops serving the old state once the invalidation arrives', async () => {
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    const before = b.coordinator!.stats().received;
    const session = (await a.store.get(created.id))!;
    session.data.n = 2;
    await a.store.save(session);
    await received(b, before);
    expect((await b.store.get(created.id))?.data.n).toBe(2);

    await a.store.destroy(created.id);
    await received(b, before, 2);
    expect(await b.store.get(created.id)).toBeNull();
    expect(b.coordinator!.stats().lagMs.samples).toBeGreaterThanOrEqual(2);
  });

  it('hands each caller its own copy; cached copies never change', async () => {
    const created = await a.store.create({ cart: { items: ['a'] } });
    const first = await cachedOn(b, created.id);
    (first.data.cart as { items: string[] }).items.push('mutated');
    first.data.extra = true;
    expect((await b.store.get(created.id))?.data).toEqual({ cart: { items: ['a'] } });
  });

  it('G3: a read whose reply races an invalidation never caches the older version', async () => {
    const proxy = await TcpProxy.start(server.port);
    const c = await startNode(
      { host: '127.0.0.1', port: proxy.port },
      { cluster: { nodeId: 'node-c' } },
    );
    try {
      const created = await a.store.create({ n: 1 });
      proxy.hold();
      const racing = c.store.get(created.id);
      await waitFor(() => proxy.heldBytes > 0, { what: "the read's reply to be held" });

      const before = c.coordinator!.stats().received;
      const session = (await a.store.get(created.id))!;
      session.data.n = 2;
      await a.store.save(session);
      await received(c, before); // the invalidation arrives while the reply is held
      proxy.release();
      expect((await racing)?.data.n).toBe(1); // that read returns what it read…
      expect((await c.cache!.get(created.id))?.snapshot.version).toBeUndefined(); // …without caching it

      expect((await c.store.get(created.id))?.data.n).toBe(2); // …but did not cache it
      expect((await c.store.get(created.id))?.data.n).toBe(2);
    } finally {
      proxy.release();
      await c.stop();
      await proxy.close();
    }
  });

  it("G1: a node's own invalidation arriving before its write's reply already stops the old copy", async () => {
    const proxy = await TcpProxy.start(server.port);
    const c = await startNode(
      { host: '127.0.0.1', port: proxy.port },
      { cluster: { nodeId: 'node-c' } },
    );
    try {
      const created = await a.store.create({ n: 1 });
      const session = await cachedOn(c, created.id);
      const cachedVersion = session.version;
      expect((await c.cache!.get(created.id))?.snapshot.version).toBe(cachedVersion);
      proxy.hold(); // the save's reply is held; its Pub/Sub message is not
      session.data.n = 2;
      const saving = c.store.save(session);
      // its own message has arrived (waiting for "a message" could take a late one of the create)
      await waitFor(
        async () => (await c.cache!.get(created.id))?.snapshot.version !== cachedVersion,
        { what: "node-c's own message to retire its copy" },
      );
      const reading = c.store.get(created.id); // must not be the cached v1
      proxy.release();
      await saving;
      expect((await reading)?.data.n).toBe(2);
    } finally {
      proxy.release();
      await c.stop();
      await proxy.close();
    }
  });

  it('shares one Redis read among concurrent misses of one session', async () => {
    const proxy = await TcpProxy.start(server.port);
    const c = await startNode(
      { host: '127.0.0.1', port: proxy.port },
      { cluster: { nodeId: 'node-c' } },
    );
    try {
      const created = await a.store.create({ n: 1 });
      const before = await roundTrips(a);
      proxy.hold();
      const reads = Array.from({ length: 10 }, () => c.store.get(created.id));
      await waitFor(() => proxy.heldBytes > 0, { what: 'the read to be in flight' });
      proxy.release();
      const sessions = await Promise.all(reads);
      expect(sessions.map((s) => s?.data.n)).toEqual(Array(10).fill(1));
      expect(new Set(sessions.map((s) => s?.data)).size).toBe(10); // each its own copy
      expect(await roundTrips(a)).toBe(before + 1);
    } finally {
      proxy.release();
      await c.stop();
      await proxy.close();
    }
  });

  it('G4: while the subscriber is disconnected nothing is served from the cache; afterwards no old version', async () => {
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    const flushes = b.coordinator!.stats().flushes;

    await server.killPubSubClients();
    await waitFor(() => !b.coordinator!.isTrusted(), { what: 'b to distrust its cache' });
    const session = (await a.store.get(created.id))!;
    session.data.n = 2;
    await a.store.save(session); // b may miss this message
    const hits = b.store.cacheStats().hits;
    expect((await b.store.get(created.id))?.data.n).toBe(2);
    expect(b.store.cacheStats().hits).toBe(hits);

    await waitFor(() => b.coordinator!.isTrusted(), { what: 'b to resubscribe' });
    expect(b.coordinator!.stats().flushes).toBeGreaterThan(flushes);
    expect((await b.store.get(created.id))?.data.n).toBe(2);
  });

  it('G4: a missed heartbeat (Redis paused) stops serving from the cache until it answers again', async () => {
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    server.pause();
    try {
      await waitFor(() => !b.coordinator!.isTrusted(), {
        timeoutMs: 3_000,
        what: 'a missed heartbeat',
      });
      await expect(b.store.get(created.id)).rejects.toThrow(/unavailable/); // not the cached copy
    } finally {
      server.resume();
    }
    await waitFor(() => b.coordinator!.isTrusted(), { what: 'the heartbeat to answer again' });
    expect((await b.store.get(created.id))?.data.n).toBe(1);
  });

  it('G4: after a Redis restart, nodes resubscribe and serve nothing from before', async () => {
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    await server.restart(); // empty: the session is gone
    // the subscribers back, and the command connections too (they reconnect on their own timers)
    await waitFor(
      () => [a, b].every((node) => node.coordinator!.isTrusted() && node.redis.status === 'ready'),
      { what: 'resubscription and reconnection' },
    );
    await waitFor(async () => (await b.store.get(created.id).catch(() => 'down')) === null, {
      what: 'b to see the session gone',
    });
    const fresh = await a.store.create({ n: 5 });
    await cachedOn(b, fresh.id);
  });

  it('G4: a gap in an origin sequence flushes the cache', async () => {
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    const auth = new MessageAuthenticator([TEST_SECRET], SCOPE);
    const publish = async (seq: number) => {
      const body = `ncs1|n||0|forger|${'0'.repeat(16)}|${seq}|${Date.now() * 1000}`;
      await a.redis.publish(CHANNEL, signedMessage(auth, body));
    };
    const before = b.coordinator!.stats();
    await publish(1);
    await publish(2);
    await received(b, before.received, 2);
    expect(b.coordinator!.stats().flushes).toBe(before.flushes);

    await publish(4); // 3 was lost
    await received(b, before.received, 3);
    expect(b.coordinator!.stats().flushes).toBe(before.flushes + 1);
    const hits = b.store.cacheStats().hits;
    await b.store.get(created.id);
    expect(b.store.cacheStats().hits).toBe(hits); // read from Redis, not the old cache
  });

  it('ignores and counts forged, foreign and malformed messages', async () => {
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    const forger = new MessageAuthenticator(['another-secret-of-at-least-32-characters'], SCOPE);
    const body = `ncs1|d|${created.id}|0|forger|${'1'.repeat(16)}|1|${Date.now() * 1000}`;
    const before = b.coordinator!.stats();
    for (const message of [
      signedMessage(forger, body),
      `${body}|${'0'.repeat(40)}`,
      'hello',
      '',
      `${body}`,
      'ncs1|d|x|0|o|e|1|1|m',
    ]) {
      await a.redis.publish(CHANNEL, message);
    }
    await received(b, before.received, 6);
    expect(b.coordinator!.stats().ignored).toBe(before.ignored + 6);
    expect(b.coordinator!.stats().flushes).toBe(before.flushes);
    const hits = b.store.cacheStats().hits;
    expect((await b.store.get(created.id))?.data.n).toBe(1); // not destroyed by the forgery
    expect(b.store.cacheStats().hits).toBe(hits + 1);
  });

  it('clear empties every node', async () => {
    const created = await a.store.create({ n: 1 });
    await cachedOn(b, created.id);
    const flushes = b.coordinator!.stats().flushes;
    await a.store.clear();
    await waitFor(() => b.coordinator!.stats().flushes > flushes, { what: 'the clear to arrive' });
    expect(await b.store.get(created.id)).toBeNull();
  });

  it('G8: when an invalidation is lost without any sign, a stale copy is served for at most localCacheTtl', async () => {
    const ttl = 400;
    const c = await startNode(server.url, { cluster: { nodeId: 'node-c', localCacheTtl: ttl } });
    // a writer that does not publish: the worst case, a message lost with no gap and no disconnect
    const silent = new RedisSessionStore<Data>(a.redis, resolveOptions({ secret: TEST_SECRET }));
    try {
      const created = await a.store.create({ n: 1 });
      await c.store.get(created.id);
      const cachedAt = Date.now();
      const session = (await silent.get(created.id))!;
      session.data.n = 2;
      await silent.save(session);
      const freshAt = await waitFor(
        async () => ((await c.store.get(created.id))?.data.n === 2 ? Date.now() : 0),
        {
          what: 'the stale copy to expire',
        },
      );
      expect(freshAt - cachedAt).toBeLessThanOrEqual(ttl + 100);
    } finally {
      await c.stop();
    }
  });
});
