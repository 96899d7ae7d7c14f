import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { cachedOn, startNode } from '../support/cluster-fixture';

/**
 * #27 item 2: an account page ends one session of the user, or all but the current one, on
 * every node; never a session of another user.
 */
describe('ending sessions from an account page', () => {
  let server: RedisServer;
  let a: ClusterSessionRuntime;
  let b: ClusterSessionRuntime;

  beforeAll(async () => {
    server = await RedisServer.start();
    [a, b] = [
      await startNode(server.url, { cluster: { nodeId: 'a' } }),
      await startNode(server.url, { cluster: { nodeId: 'b' } }),
    ];
    await waitFor(() => a.coordinator!.isTrusted() && b.coordinator!.isTrusted(), {
      what: 'both nodes to subscribe',
    });
  });

  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await server.dispose();
  });

  async function sessionOf(user: string, data: Record<string, unknown> = {}) {
    const session = await a.store.create(data);
    session.setUser(user);
    await a.store.save(session);
    return session.id;
  }

  it('destroyForUser ends that one session of the user on every node, and no other', async () => {
    const [laptop, phone] = [await sessionOf('ann'), await sessionOf('ann')];
    await cachedOn(b, phone);
    expect(await a.store.destroyForUser('ann', phone)).toBe(true);
    // b's cached copy is gone at once (as for any destroy), and Redis no longer has it
    await waitFor(async () => (await b.store.get(phone)) === null, {
      what: 'b to stop serving the ended session',
    });
    expect(await a.store.listForUser('ann')).toEqual([laptop]);
    expect(await b.store.get(laptop)).not.toBeNull();
    expect(await a.store.destroyForUser('ann', phone)).toBe(false); // already gone
  });

  it("another user's session id, a malformed id, an unknown one: false, nothing ended", async () => {
    const bobs = await sessionOf('bob', { secret: 'bob' });
    await sessionOf('eve');
    expect(await a.store.destroyForUser('eve', bobs)).toBe(false);
    expect((await b.store.get(bobs))?.data).toEqual({ secret: 'bob' });
    expect(await a.store.listForUser('bob')).toEqual([bobs]);
    expect(await a.store.destroyForUser('eve', 'not-an-id')).toBe(false);
    expect(await a.store.destroyForUser('eve', 'x'.repeat(43))).toBe(false);
  });

  it('a save racing destroyForUser never brings the session back (G5)', async () => {
    const id = await sessionOf('cid', { n: 1 });
    const copy = (await b.store.get(id))!;
    copy.data.n = 2;
    const [ended, saved] = await Promise.all([
      a.store.destroyForUser('cid', id),
      b.store.save(copy),
    ]);
    expect(ended).toBe(true);
    // whichever ran first, the session stays ended
    expect(typeof saved).toBe('boolean');
    expect(await a.store.get(id)).toBeNull();
    expect(await b.store.get(id)).toBeNull();
  });

  it('destroyAllForUser with except: every other session of the user ends, the current one stays', async () => {
    const current = await sessionOf('dan');
    const others = [await sessionOf('dan'), await sessionOf('dan')];
    const strangers = await sessionOf('fay');
    for (const id of others) {
      await cachedOn(b, id);
    }
    expect(await a.store.destroyAllForUser('dan', { except: current })).toBe(2);
    for (const id of others) {
      await waitFor(async () => (await b.store.get(id)) === null, { what: 'b to drop it' });
    }
    expect(await b.store.get(current)).not.toBeNull();
    expect(await a.store.listForUser('dan')).toEqual([current]);
    // except names a session of another user: it only keeps, never ends, anything
    expect(await a.store.destroyAllForUser('dan', { except: strangers })).toBe(1);
    expect(await b.store.get(strangers)).not.toBeNull();
    expect(await a.store.listForUser('dan')).toEqual([]);
  });

  it('sessionsForUser lists the live sessions of the user, most recently active first, with their deadlines', async () => {
    const [first, second, third] = [
      await sessionOf('gil'),
      await sessionOf('gil'),
      await sessionOf('gil'),
    ];
    await sessionOf('hal');
    const later = Date.now() + 5;
    await waitFor(() => Date.now() >= later, { what: 'a later millisecond' });
    const used = (await b.store.get(second))!;
    used.data.page = 'settings'; // used again: it comes first
    await b.store.save(used);
    await a.store.destroyForUser('gil', third);

    const listed = await a.store.sessionsForUser('gil');
    expect(listed.map((info) => info.id)).toEqual([second, first]);
    const now = Date.now();
    for (const info of listed) {
      expect(info.createdAt.getTime()).toBeLessThanOrEqual(info.lastActiveAt.getTime() + 5);
      expect(info.lastActiveAt.getTime()).toBeLessThanOrEqual(now + 5);
      expect(info.idleExpiresAt.getTime()).toBeGreaterThan(now);
      expect(info.absoluteExpiresAt.getTime() - info.createdAt.getTime()).toBe(
        a.options.absoluteTimeout,
      );
    }
    expect(listed[0].lastActiveAt.getTime()).toBeGreaterThanOrEqual(
      listed[1].lastActiveAt.getTime(),
    );
    expect(await a.store.sessionsForUser('nobody')).toEqual([]);
  });
});
