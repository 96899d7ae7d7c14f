import type { Redis } from 'ioredis';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { SessionStoreUnavailableError } from '../../lib/errors/session-store-unavailable.error';
import { generateSessionId } from '../../lib/session/session-id.util';
import { sessionKey } from '../../lib/store/session-keys';
import { cachedOn, received, requestOn, roundTrips, startNode } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { sessionRead } from '../support/script-matcher';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../../sample/support/wait-for';

const until = (time: number) => waitFor(() => Date.now() >= time, { what: `time ${time}` });

/**
 * The local cache on the login path and under faults (issue 14): each test forces its
 * interleaving with a TCP proxy that holds replies or black-holes Pub/Sub, or with Redis itself.
 */
describe('cache safety', () => {
  let server: RedisServer;
  let proxy: TcpProxy;
  let redis: Redis;
  const nodes: ClusterSessionRuntime[] = [];

  const node = async (...args: Parameters<typeof startNode>) => {
    const started = await startNode(...args);
    nodes.push(started);
    await waitFor(() => started.coordinator!.isTrusted(), { what: 'the node to subscribe' });
    return started;
  };
  const viaProxy = () => `redis://127.0.0.1:${proxy.port}`;

  beforeEach(async () => {
    server = await RedisServer.start();
    proxy = await TcpProxy.start(server.port);
    redis = server.client();
  });

  afterEach(async () => {
    proxy.release();
    proxy.blackholeSubscribers = false;
    proxy.subscriberDelayMs = 0;
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    redis.disconnect();
    await proxy.close();
    await server.dispose();
  });

  it('#26 G8: a read answered late is served from the cache for localCacheTtl from when it was sent, not from its reply', async () => {
    const a = await node(server.url, { cluster: { nodeId: 'a' } });
    const c = await node(viaProxy(), {
      // no heartbeat during the test: its PUBLISH would wait behind the late reply
      cluster: { nodeId: 'c', localCacheTtl: 1_000, heartbeatInterval: 60_000 },
    });
    const { id } = await a.store.create({ n: 1 });

    proxy.fault(sessionRead(), { kind: 'delay-reply', ms: 1_300 });
    expect((await c.store.get(id))?.data).toEqual({ n: 1 });
    expect(proxy.faultsInjected).toBe(1);
    expect(c.coordinator!.isTrusted()).toBe(true); // the copy was not refused for another reason
    // sent 1.3 s ago: already past localCacheTtl, so not cached (it was, for 1 s from the reply)
    expect(await c.cache!.get(id)).toBeUndefined();

    // a read answered at once is cached: what the check above refused was the late one only
    await c.store.get(id);
    expect((await c.cache!.get(id))?.snapshot.version).toBeGreaterThan(0);
  });

  it('#14.6 with serveStaleOnError, a touch that fails while Redis is down does not fail the request', async () => {
    const a = await node(server.url, { cluster: { nodeId: 'a' } });
    const b = await node(server.url, {
      serveStaleOnError: true,
      touchAfter: 100,
      cluster: { nodeId: 'b' },
    });
    const session = await a.store.create({ n: 1 });
    await cachedOn(b, session.id);
    await until(Date.now() + 150); // the cached copy is now due for a touch

    await server.stop();
    await waitFor(() => !b.coordinator!.isTrusted(), { what: 'b to lose Redis' });
    const request = await requestOn(b, session).load();
    expect(request.data).toEqual({ n: 1 }); // the stale copy
    expect(request.needsCommit()).toBe(true); // a touch is due
    await expect(request.commit()).resolves.toBeNull();
  });

  it('#14.7 G4: a subscriber whose PING times out (commandTimeout < heartbeatInterval) stops trusting its cache', async () => {
    const b = await node(
      { host: '127.0.0.1', port: proxy.port, commandTimeout: 100 },
      { cluster: { nodeId: 'b', heartbeatInterval: 400 } },
    );
    const a = await node(server.url, { cluster: { nodeId: 'a' } });
    const session = await a.store.create({ n: 1 });
    await cachedOn(b, session.id);

    proxy.blackholeSubscribers = true; // nothing reaches b's subscriber, and nothing closes
    await waitFor(() => !b.coordinator!.isTrusted(), {
      timeoutMs: 3_000,
      what: 'b to stop trusting its cache',
    });
    const hits = b.store.cacheStats().hits;
    await b.store.get(session.id);
    expect(b.store.cacheStats().hits).toBe(hits);
  });

  it('#14.8 G9: a read carrying a newer cookie version does not take the reply of a read sent before the write', async () => {
    const a = await node(server.url, { cluster: { nodeId: 'a' } });
    const b = await node(viaProxy(), { cluster: { nodeId: 'b' } });
    const session = await a.store.create({ n: 1 });

    proxy.subscriberDelayMs = 2_000; // b hears of the write only later
    proxy.hold();
    const early = b.store.get(session.id);
    await waitFor(() => proxy.heldBytes > 0, { what: 'the first read to be answered' });
    session.data.n = 2;
    await a.store.save(session);
    const withCookie = b.store.get(session.id, { minVersion: session.version });
    proxy.release();

    expect((await early)?.data.n).toBe(1);
    expect((await withCookie)?.data.n).toBe(2);
  });

  it('#14.9 a save never caches a copy older than one announced meanwhile, and forgetting versions never serves it', async () => {
    const a = await node(viaProxy(), { cluster: { nodeId: 'a' } });
    const b = await node(server.url, { cluster: { nodeId: 'b' } });
    const created = await b.store.create({ n: 1 });
    const onA = (await a.store.get(created.id))!;

    proxy.hold(); // a's save runs in Redis (v2); its reply waits
    onA.data.n = 2;
    const saving = a.store.save(onA);
    await waitFor(() => proxy.heldBytes > 0, { what: "a's save to run" });
    const onB = (await b.store.get(created.id))!;
    expect(onB.version).toBe(2);
    onB.data.m = 3;
    await b.store.save(onB); // v3, announced to a before a's own reply arrives
    // a has heard of v3 (counting messages could count the create's, or a's own, arriving late)
    const newest = (
      a.store as unknown as { newestVersionSeen: { get(id: string): number | undefined } }
    ).newestVersionSeen;
    await waitFor(() => (newest.get(created.id) ?? 0) >= 3, { what: 'a to hear of v3' });
    proxy.release();
    expect(await saving).toBe(true);

    const cached = await a.cache!.get(created.id);
    expect(cached === undefined || cached.snapshot.version >= 3).toBe(true);
    // a flood of other invalidations makes a forget the newest version it saw of this one
    const emit = (a.coordinator as unknown as { emit(event: unknown): void }).emit.bind(
      a.coordinator,
    );
    emit({
      type: 'destroy',
      ids: Array.from({ length: 100_001 }, () => generateSessionId()),
      own: false,
    });
    expect((await a.store.get(created.id))?.data).toEqual({ n: 2, m: 3 });
  });

  it('#14.11 one touch per session per touchAfter on a node, whatever the hit rate', async () => {
    const a = await node(server.url, { cluster: { nodeId: 'a' } });
    const b = await node(server.url, { touchAfter: 300, cluster: { nodeId: 'b' } });
    const session = await a.store.create({ n: 1 });
    await cachedOn(b, session.id);
    await until(Date.now() + 350);

    const before = await roundTrips(b);
    // 10 concurrent requests, then 20 one after another, all within touchAfter of the touch
    await Promise.all(
      Array.from({ length: 10 }, async () => (await requestOn(b, session).load()).commit()),
    );
    for (let i = 0; i < 20; i++) {
      await (await requestOn(b, session).load()).commit();
    }
    expect((await roundTrips(b)) - before).toBe(1);
    expect(b.store.cacheStats().hits).toBeGreaterThanOrEqual(30);
  });

  it('#14.12 G7: a cached copy expires by the time the read was sent, not when its reply came', async () => {
    const a = await node(server.url, { cluster: { nodeId: 'a' } });
    const b = await node(viaProxy(), { cluster: { nodeId: 'b' } });
    const session = await a.store.create({ n: 1 });
    await redis.pexpire(sessionKey('sess:', session.id), 1_000);

    const sentAt = Date.now();
    proxy.hold();
    const reading = b.store.get(session.id);
    await waitFor(() => proxy.heldBytes > 0, { what: 'the read to be answered' });
    await until(sentAt + 300); // the reply arrives 300 ms late
    proxy.release();
    const read = (await reading)!;
    expect(read.expiresAt).toBeLessThanOrEqual(sentAt + 1_000);

    await until(sentAt + 1_050);
    expect(await b.store.get(session.id)).toBeNull();
  });

  it('#14.13 a write script that fails, or a write never sent, costs no other node a flush', async () => {
    const a = await node(server.url, { cluster: { nodeId: 'a' } });
    const b = await node(server.url, { cluster: { nodeId: 'b' } });
    const session = await a.store.create({ n: 1 });
    const stale = (await a.store.get(session.id))!;
    const flushes = b.coordinator!.stats().flushes;

    // the script fails in Redis (WRONGTYPE)
    await redis.set(sessionKey('sess:', session.id), 'not a hash');
    stale.data.n = 2;
    await expect(a.store.save(stale)).rejects.toThrow(/WRONGTYPE/);
    // the client refuses to send (not connected, no offline queue)
    a.redis.disconnect();
    await waitFor(() => a.redis.status === 'end', { what: "a's connection to close" });
    await expect(a.store.create({ n: 2 })).rejects.toThrow(SessionStoreUnavailableError);
    await a.redis.connect();

    const before = b.coordinator!.stats().received;
    await a.store.destroy((await a.store.create({ n: 3 })).id);
    await received(b, before, 2);
    expect(b.coordinator!.stats().flushes).toBe(flushes);
  });

  it('#14.15 messages are bound to their channel and key prefix: another app sharing the secret ignores them', async () => {
    const x = await node(server.url, { keyPrefix: 'x:', cluster: { nodeId: 'x' } });
    const y = await node(server.url, { keyPrefix: 'y:', cluster: { nodeId: 'y' } });
    const other = await node(server.url, { cluster: { nodeId: 'o', channel: 'other' } });
    const listener = server.client();
    const captured: string[] = [];
    await listener.subscribe('session:cluster:invalidate');
    listener.on('message', (_channel: string, message: string) => captured.push(message));
    try {
      const ignored = y.coordinator!.stats().ignored;
      const session = await x.store.create({ n: 1 });
      await x.store.destroy(session.id);
      await waitFor(() => y.coordinator!.stats().ignored >= ignored + 2, {
        what: "y to ignore x's messages",
      });
      // replayed on another channel
      await waitFor(() => captured.length >= 2, { what: 'the messages' });
      const otherIgnored = other.coordinator!.stats().ignored;
      for (const message of captured) {
        await redis.publish('other', message);
      }
      await waitFor(() => other.coordinator!.stats().ignored >= otherIgnored + captured.length, {
        what: 'the replayed messages to be ignored',
      });
    } finally {
      listener.disconnect();
    }
  });
});
