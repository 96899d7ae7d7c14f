import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { cachedOn, startNode } from '../support/cluster-fixture';
import { script } from '../support/script-matcher';
import { TcpProxy, type CommandFault } from '../support/tcp-proxy';

/**
 * The account-security writes when a reply is lost (G11): node `a` talks to Redis through a
 * fault proxy, node `b` directly. `destroyForUser` and the limit's ending of a session answer
 * as if nothing happened, the session ended exactly once, on both nodes.
 */
describe('account security when a reply is lost (fault proxy)', () => {
  let server: RedisServer;
  let proxy: TcpProxy;
  let a: ClusterSessionRuntime;
  let b: ClusterSessionRuntime;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await TcpProxy.start(server.port);
    const limit = { maxSessionsPerUser: { limit: 1, onExceed: 'end-oldest' as const } };
    a = await startNode(proxy.url, { ...limit, cluster: { nodeId: 'a' } });
    b = await startNode(server.url, { ...limit, cluster: { nodeId: 'b' } });
    await waitFor(() => a.coordinator.isTrusted() && b.coordinator.isTrusted(), {
      what: 'both nodes to subscribe',
    });
  });

  // a fault closes a's connection: each test starts once it is back
  beforeEach(() => waitFor(() => a.redis.status === 'ready', { what: "a's connection" }));

  afterEach(() => proxy.disarm());

  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await proxy.close();
    await server.dispose();
  });

  const faults: [string, CommandFault][] = [
    ['reply dropped, connection closed', { kind: 'drop-reply-and-close' }],
    ['connection reset before it was sent', { kind: 'reset-before-send' }],
  ];

  let users = 0;
  async function loginOn(node: ClusterSessionRuntime, user: string) {
    const session = await node.store.create({ n: 1 });
    session.setUser(user);
    await node.store.save(session);
    return session.id;
  }

  it.each(faults)('destroyForUser, %s: true, the session ended on both nodes', async (_, fault) => {
    const user = `u${++users}`;
    const id = await loginOn(b, user);
    await cachedOn(b, id);
    const injected = proxy.faultsInjected;
    proxy.fault(script('Destroy'), fault);
    expect(await a.store.destroyForUser(user, id)).toBe(true);
    expect(proxy.faultsInjected).toBe(injected + 1);
    expect(await a.store.get(id)).toBeNull();
    await waitFor(async () => (await b.store.get(id)) === null, { what: 'b to drop its copy' });
    expect(await b.store.sessionsForUser(user)).toEqual([]);
  });

  it.each(faults)(
    'the index removal after destroyForUser, %s: true, the listing right',
    async (_, fault) => {
      const user = `u${++users}`;
      const id = await loginOn(b, user);
      const injected = proxy.faultsInjected;
      proxy.fault(script('IndexRemove'), fault);
      // the removal is not worth failing the call for: a leftover entry is pruned when read
      expect(await a.store.destroyForUser(user, id)).toBe(true);
      expect(proxy.faultsInjected).toBe(injected + 1);
      expect(await b.store.sessionsForUser(user)).toEqual([]);
      expect(await b.store.listForUser(user)).toEqual([]);
    },
  );

  it("'end-oldest' keeps the login's own session when another device saves between its write and its listing", async () => {
    const user = `u${++users}`;
    const laptop = await loginOn(b, user);
    const injected = proxy.faultsInjected;
    // the login's listing is held: the laptop is used meanwhile, and ranks above the new login
    proxy.fault(script('IndexList'), { kind: 'delay-reply', ms: 300 });
    const phone = (async () => {
      const session = await a.store.create({ n: 1 });
      session.setUser(user);
      return { id: session.id, kept: await a.store.save(session) };
    })();
    await waitFor(() => proxy.faultsInjected > injected, { what: "the login's listing" });
    const used = (await b.store.get(laptop))!;
    used.data.n = 2;
    expect(await b.store.save(used)).toBe(true);
    const { id, kept } = await phone;
    expect(kept).toBe(true);
    expect(await b.store.listForUser(user)).toEqual([id]);
  });

  it.each(faults)(
    "the limit's ending of the oldest session, %s: the login kept, the oldest ended",
    async (_, fault) => {
      const user = `u${++users}`;
      const oldest = await loginOn(b, user);
      await cachedOn(b, oldest);
      const injected = proxy.faultsInjected;
      proxy.fault(script('Destroy'), fault);
      const newest = await loginOn(a, user);
      expect(proxy.faultsInjected).toBe(injected + 1);
      expect(await b.store.listForUser(user)).toEqual([newest]);
      await waitFor(async () => (await b.store.get(oldest)) === null, {
        what: 'b to drop the ended copy',
      });
    },
  );
});
