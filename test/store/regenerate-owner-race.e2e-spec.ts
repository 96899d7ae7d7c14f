import type { Redis } from 'ioredis';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { SessionStoreUnavailableError } from '../../lib/errors/session-store-unavailable.error';
import { requestOn, startNode } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../../sample/support/wait-for';

/**
 * README, per-user index: "a failure in between leaves an index entry without a session, never a
 * session missing from the index"; "a session owned by the user is always listed".
 * moveSession() pre-indexes the new id under the owner it read with HGET *before* the script.
 * Interleaving: a's HGET reads no owner; b then makes bob the owner (indexed under the old id);
 * a's REGENERATE runs (new id, owner bob) and its reply is lost (command timeout). The
 * post-regenerate add never runs: a session owned by bob exists that bob's index never lists,
 * and destroyAllForUser('bob') does not reach it.
 */
describe('#14 review: regenerate whose owner changed after the HGET, reply lost', () => {
  let server: RedisServer;
  let proxy: TcpProxy;
  let redis: Redis;
  let a: ClusterSessionRuntime;
  let b: ClusterSessionRuntime;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await TcpProxy.start(server.port);
    redis = server.client();
    a = await startNode(`redis://127.0.0.1:${proxy.port}`, { cluster: { nodeId: 'a' } });
    b = await startNode(server.url, { cluster: { nodeId: 'b' } });
    await waitFor(() => a.coordinator!.isTrusted() && b.coordinator!.isTrusted());
  });

  afterAll(async () => {
    proxy.release();
    await Promise.all([a.stop(), b.stop()]);
    redis.disconnect();
    await proxy.close();
    await server.dispose();
  });

  it('a session owned by bob after a failed regenerate is listed for bob', async () => {
    const anonymous = await b.store.create({ cart: ['book'] });
    const request = await requestOn(a, anonymous).load();

    proxy.hold();
    const regenerating = request.regenerate().catch((e: unknown) => e);
    await waitFor(() => proxy.heldBytes > 0, { what: "a's HGET of the owner to run" });

    const other = (await b.store.get(anonymous.id))!;
    other.setUser('bob');
    await b.store.save(other); // bob's index: the old id

    proxy.release(); // the HGET reply (no owner) ...
    proxy.hold(); // ... and the REGENERATE's reply is held until a's command timeout
    const error = await regenerating;
    proxy.release();
    // the regenerate may fail (its reply lost) or succeed (retried after the owner changed)
    if (error !== undefined) {
      expect(error).toBeInstanceOf(SessionStoreUnavailableError);
    }

    // whatever happened, every session bob owns is in bob's index
    const owned: string[] = [];
    for (const key of await redis.keys('sess:{*')) {
      if ((await redis.hget(key, 'user')) === 'bob') {
        owned.push(key.replace(/^sess:\{[^}]*\}/, ''));
      }
    }
    expect(owned).toHaveLength(1);
    const listed = await b.store.listForUser('bob');
    const destroyed = await b.store.destroyAllForUser('bob');
    expect({ listed, destroyed }).toEqual({ listed: owned, destroyed: 1 });
  }, 15_000);
});
