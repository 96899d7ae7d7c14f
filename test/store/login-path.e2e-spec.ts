import type { Redis } from 'ioredis';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import type { Session } from '../../lib/session/session';
import { sessionKey } from '../../lib/store/session-keys';
import { received, requestOn, startNode } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../../sample/support/wait-for';

type Data = Record<string, unknown>;

/** Every session hash under the prefix, as plain objects (what Redis really holds). */
async function storedSessions(redis: Redis): Promise<Record<string, string>[]> {
  // (a destroy's short-lived record, `<key>:destroyed`, is no session)
  const keys = (await redis.keys('sess:{*')).filter(
    (key) => !key.includes('user:') && !key.endsWith(':destroyed'),
  );
  return Promise.all(keys.map((key) => redis.hgetall(key)));
}

/** Signs in `user` on `node`: a stored session owned by the user. */
async function signedIn(node: ClusterSessionRuntime, user: string, data: Data): Promise<Session> {
  const session = await node.store.create(data);
  session.setUser(user);
  await node.store.save(session);
  return session;
}

describe.each([false, true])('the login path (encryption %s)', (encryption) => {
  let server: RedisServer;
  let proxy: TcpProxy;
  let a: ClusterSessionRuntime;
  let b: ClusterSessionRuntime;
  let redis: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await TcpProxy.start(server.port);
    redis = server.client();
  });

  beforeEach(async () => {
    await redis.flushall();
    // a goes through the proxy, so a test can hold a's replies while b acts
    a = await startNode(`redis://127.0.0.1:${proxy.port}`, {
      encryption,
      cluster: { nodeId: 'a' },
    });
    b = await startNode(server.url, { encryption, cluster: { nodeId: 'b' } });
    await waitFor(() => a.coordinator!.isTrusted() && b.coordinator!.isTrusted(), {
      what: 'both nodes to subscribe',
    });
  });

  afterEach(async () => {
    proxy.release();
    await Promise.all([a.stop(), b.stop()]);
  });

  afterAll(async () => {
    redis.disconnect();
    await proxy.close();
    await server.dispose();
  });

  it('#14.1 regenerate() of a session destroyed meanwhile stores nothing of it (destroyAllForUser)', async () => {
    const alice = await signedIn(a, 'alice', { role: 'admin' });
    const request = await requestOn(a, alice).load();
    expect(await b.store.destroyAllForUser('alice')).toBe(1);

    await request.regenerate();
    expect(request.data).toEqual({});
    expect(request.userId).toBeNull();
    expect(await request.commit()).toBeNull();

    expect(await storedSessions(redis)).toEqual([]);
    expect(await b.store.listForUser('alice')).toEqual([]);
  });

  it('#14.1 regenerate() of an expired session stores nothing of it; what the request sets afterwards is a new session', async () => {
    const alice = await signedIn(a, 'alice', { role: 'admin' });
    const request = await requestOn(b, alice).load();
    await redis.pexpire(sessionKey('sess:', alice.id), 1);
    await waitFor(async () => (await redis.exists(sessionKey('sess:', alice.id))) === 0, {
      what: 'the session to expire',
    });

    await request.regenerate();
    request.set('greeting', 'hello');
    const action = await request.commit();
    expect(action).toMatchObject({ set: request.id });
    const stored = await storedSessions(redis);
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toMatch(/admin|alice/);
    expect(await b.store.listForUser('alice')).toEqual([]);
    expect((await a.store.get(request.id))?.data).toEqual({ greeting: 'hello' });
  });

  it.each(['destroyAllForUser', 'listForUser'] as const)(
    '#14.2 a login racing %s ends destroyed or listed in the user index',
    async (racer) => {
      const anonymous = await a.store.create({ cart: ['book'] });
      const login = (await a.store.get(anonymous.id))!;
      login.setUser('alice');
      login.data.username = 'alice';

      // a's index add runs in Redis; its reply (and so the save after it) waits at the proxy
      proxy.hold();
      const saving = a.store.save(login);
      await waitFor(
        async () => (await redis.zrange('sess:user:{alice}', '0', '-1')).includes(anonymous.id),
        { what: 'the index entry of the login' },
      );
      if (racer === 'destroyAllForUser') {
        expect(await b.store.destroyAllForUser('alice')).toBe(0);
      } else {
        expect(await b.store.listForUser('alice')).toEqual([]);
      }
      proxy.release();
      const saved = await saving;

      const exists = (await redis.exists(sessionKey('sess:', anonymous.id))) === 1;
      expect(saved).toBe(exists);
      if (exists) {
        expect(await b.store.listForUser('alice')).toEqual([anonymous.id]);
      }
      // so "log out everywhere" reaches it
      expect(await b.store.destroyAllForUser('alice')).toBe(exists ? 1 : 0);
      expect(await redis.exists(sessionKey('sess:', anonymous.id))).toBe(0);
    },
  );

  it('#14.3 regenerate keeps the data readable (with encryption too), listed and owned', async () => {
    const alice = await signedIn(a, 'alice', { role: 'admin', cart: ['book'] });
    const request = await requestOn(b, alice).load();
    await request.regenerate();
    const action = await request.commit();
    expect(action).toEqual({ set: request.id, version: alice.version + 1 });
    // a had it cached: the old id is gone there once a is told (G2). (Waiting for a message
    // count is not enough: a's own earlier message may be the one counted.)
    await waitFor(async () => (await a.store.get(alice.id)) === null, {
      what: 'node a to drop the old id',
    });
    expect(request.id).not.toBe(alice.id);

    for (const node of [a, b]) {
      const moved = await node.store.get(request.id);
      expect(moved?.data).toEqual({ role: 'admin', cart: ['book'] });
      expect(moved?.userId).toBe('alice');
      expect(moved?.createdAt).toBe(alice.createdAt); // the absolute timeout does not restart
      expect(await node.store.get(alice.id)).toBeNull();
    }
    expect(await a.store.listForUser('alice')).toEqual([request.id]);
    // and it keeps working through later saves and another regenerate
    const next = await requestOn(a, (await a.store.get(request.id))!).load();
    next.set('cart', ['book', 'pen']);
    await next.regenerate();
    await next.commit();
    expect((await b.store.get(next.id))?.data).toEqual({ role: 'admin', cart: ['book', 'pen'] });
    if (encryption) {
      expect(JSON.stringify(await storedSessions(redis))).not.toMatch(/admin|book/);
    }
  });

  it("#14.4 regenerate writes only the keys this request changed, keeping other nodes' writes (G6)", async () => {
    const alice = await signedIn(a, 'alice', { a: 1, b: 1, c: 1, gone: 1 });
    const request = await requestOn(a, alice).load();

    const other = (await b.store.get(alice.id))!;
    other.data.b = 2;
    other.data.added = 'by b';
    const before = a.coordinator!.stats().received;
    await b.store.save(other);
    await received(a, before);

    request.set('a', 2);
    request.unset('gone');
    await request.regenerate();
    await request.commit();
    expect((await b.store.get(request.id))?.data).toEqual({ a: 2, b: 2, c: 1, added: 'by b' });
  });

  it('#14.10 a request that finds the session gone never clears the cookie a concurrent login set', async () => {
    const session = await signedIn(a, 'alice', { visits: 1 });
    const loadedBefore = await requestOn(b, session).load(); // loaded before the login, saves after
    const login = await requestOn(a, session).load();
    await login.regenerate();
    expect(await login.commit()).toMatchObject({ set: login.id });

    const loadedAfter = await requestOn(b, session).load(); // loaded after the login
    expect(loadedAfter.isNew).toBe(true);
    expect(await loadedAfter.commit()).toBeNull();

    loadedBefore.set('visits', 2);
    expect(await loadedBefore.commit()).toBeNull(); // the save finds it gone: no write, no clear
    expect(await storedSessions(redis)).toHaveLength(1);
    expect((await a.store.get(login.id))?.data).toEqual({ visits: 1 });

    // its own logout still clears the cookie
    const logout = await requestOn(b, (await b.store.get(login.id))!).load();
    await logout.destroy();
    expect(await logout.commit()).toEqual({ clear: true });
  });
});
