import { firstValueFrom, filter, take, tap, toArray } from 'rxjs';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { TooManySessionsError } from '../../lib/errors/too-many-sessions.error';
import type { SessionEvent } from '../../lib/events/session-events';
import { userClientsKey, userIndexKey } from '../../lib/store/session-keys';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { cachedOn, startNode } from '../support/cluster-fixture';

/**
 * #27 items 1, 3 and 4 on two nodes and a real Redis: what is recorded about a client, the
 * limit of sessions per user (racing logins included), and the session events.
 */
describe('client descriptions, the limit per user, session events', () => {
  let server: RedisServer;
  const nodes: ClusterSessionRuntime[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
  });

  afterAll(async () => {
    await server.dispose();
  });

  async function twoNodes(overrides: Parameters<typeof startNode>[1] = {}) {
    const pair = [
      await startNode(server.url, { ...overrides, cluster: { nodeId: 'a' } }),
      await startNode(server.url, { ...overrides, cluster: { nodeId: 'b' } }),
    ];
    nodes.push(...pair);
    await waitFor(() => pair.every((node) => node.coordinator.isTrusted()), {
      what: 'both nodes to subscribe',
    });
    return pair;
  }

  async function login(node: ClusterSessionRuntime, user: string, client?: Record<string, string>) {
    const session = await node.store.create({ cart: ['book'] });
    session.setUser(user, client);
    const kept = await node.store.save(session);
    return { id: session.id, kept };
  }

  async function liveSessions(node: ClusterSessionRuntime, user: string): Promise<string[]> {
    return (await node.store.sessionsForUser(user)).map((info) => info.id);
  }

  describe('what describeClient recorded', () => {
    it('is listed with each session, follows a regenerate, and the current session is marked', async () => {
      const [a, b] = await twoNodes();
      const laptop = await login(a, 'ann', { device: 'laptop', browser: 'Firefox' });
      const phone = await login(b, 'ann', { device: 'phone' });
      const bare = await login(a, 'ann');
      const moved = (await b.store.regenerate(phone.id))!;

      const listed = await a.store.sessionsForUser('ann', { current: laptop.id });
      const byId = new Map(listed.map((info) => [info.id, info]));
      expect(byId.get(laptop.id)).toMatchObject({
        client: { device: 'laptop', browser: 'Firefox' },
        current: true,
      });
      expect(byId.get(moved.id)).toMatchObject({ client: { device: 'phone' }, current: false });
      expect(byId.get(bare.id)?.client).toBeUndefined();
      expect(byId.has(phone.id)).toBe(false);
      // without `current`, no entry carries the mark
      expect((await a.store.sessionsForUser('ann')).some((info) => 'current' in info)).toBe(false);
    });

    it('a description that cannot be stored is refused before anything is written', async () => {
      const [a] = await twoNodes();
      const session = await a.store.create({});
      session.setUser('bo', { agent: 'x'.repeat(2_000) });
      await expect(a.store.save(session)).rejects.toThrow(/1024 bytes as JSON|at most 1024/);
      session.setUser('bo', { n: 1 } as unknown as Record<string, string>);
      await expect(a.store.save(session)).rejects.toThrow(/key "n" holds a number/);
      expect(await a.store.listForUser('bo')).toEqual([]);
    });

    it('a description in Redis that is not one is left out, the session still listed', async () => {
      const [a] = await twoNodes();
      const { id } = await login(a, 'cy', { device: 'tablet' });
      await a.redis.hset(userClientsKey(a.options.keyPrefix, 'cy'), id, '{"device": 7}');
      const [info] = await a.store.sessionsForUser('cy');
      expect(info.id).toBe(id);
      expect(info.client).toBeUndefined();
    });
  });

  describe("maxSessionsPerUser: { onExceed: 'end-oldest' }", () => {
    it('a login past the limit ends the least recently active session, on every node at once', async () => {
      const [a, b] = await twoNodes({ maxSessionsPerUser: { limit: 2, onExceed: 'end-oldest' } });
      const first = await login(a, 'dee');
      const second = await login(a, 'dee');
      // the first is used again: the second is now the least recently active
      const later = Date.now() + 5;
      await waitFor(() => Date.now() >= later, { what: 'a later millisecond' });
      await a.store.touch(first.id);
      const used = (await a.store.get(first.id))!;
      used.data.cart = ['pen'];
      await a.store.save(used);
      await cachedOn(b, second.id);

      const third = await login(b, 'dee');
      expect(third.kept).toBe(true);
      expect((await liveSessions(a, 'dee')).sort()).toEqual([first.id, third.id].sort());
      // b held a copy of the ended session: it is not served (as after a destroy)
      expect(await b.store.get(second.id)).toBeNull();
      await waitFor(async () => (await a.store.get(second.id)) === null, {
        what: 'a to stop serving the ended session',
      });
    });

    it('racing logins on two nodes never leave more than the limit', async () => {
      const [a, b] = await twoNodes({ maxSessionsPerUser: { limit: 2, onExceed: 'end-oldest' } });
      for (let round = 0; round < 5; round++) {
        const user = `race-${round}`;
        const logins = await Promise.all(
          Array.from({ length: 6 }, (_, i) => login(i % 2 ? a : b, user)),
        );
        const live = await liveSessions(a, user);
        expect(live.length).toBeLessThanOrEqual(2);
        expect(live.length).toBeGreaterThanOrEqual(1);
        // a login that was ended says so; one that says it was kept may still have been ended
        // by a racing later one, but what is live was kept
        for (const id of live) {
          expect(logins.find((l) => l.id === id)?.kept).toBe(true);
        }
        for (const { id } of logins.filter((l) => !live.includes(l.id))) {
          expect(await a.store.get(id)).toBeNull();
          expect(await b.store.get(id)).toBeNull();
        }
      }
    });
  });

  describe("maxSessionsPerUser: { onExceed: 'refuse' }", () => {
    it('refuses a login past the limit with TooManySessionsError, writing nothing', async () => {
      const [a, b] = await twoNodes({ maxSessionsPerUser: { limit: 2, onExceed: 'refuse' } });
      const kept = [await login(a, 'eli'), await login(b, 'eli')];
      const session = await a.store.create({ cart: ['lamp'] });
      session.setUser('eli');
      const refused = a.store.save(session);
      await expect(refused).rejects.toBeInstanceOf(TooManySessionsError);
      await expect(refused).rejects.toThrow(/2 live session\(s\), the limit/);
      expect((await liveSessions(b, 'eli')).sort()).toEqual(kept.map((k) => k.id).sort());
      // the session itself is left as it was: without an owner
      expect((await b.store.get(session.id))?.userId).toBeNull();
      // once one is ended, a login goes through
      await a.store.destroyForUser('eli', kept[0].id);
      expect((await login(b, 'eli')).kept).toBe(true);
    });

    it('racing logins on two nodes never leave more than the limit', async () => {
      const [a, b] = await twoNodes({ maxSessionsPerUser: { limit: 2, onExceed: 'refuse' } });
      for (let round = 0; round < 5; round++) {
        const user = `rush-${round}`;
        const outcomes = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) => login(i % 2 ? a : b, user)),
        );
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') {
            expect(outcome.reason).toBeInstanceOf(TooManySessionsError);
          }
        }
        const live = await liveSessions(b, user);
        expect(live.length).toBeLessThanOrEqual(2);
        const accepted = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.id] : []));
        // every live session is one whose login was accepted
        for (const id of live) {
          expect(accepted).toContain(id);
        }
      }
    });
  });

  describe('what the review found (#27)', () => {
    it('a subscriber that throws, in its callback or in an operator, is logged: the login goes on, the others still hear', async () => {
      const [a] = await twoNodes();
      const heard: string[] = [];
      let piped = 0;
      const subscriptions = [
        a.events.subscribe(() => {
          throw new Error('a bug in an audit log');
        }),
        a.events
          .pipe(filter((event) => (event.userId as string).length > 0))
          .subscribe(() => undefined),
        a.events.subscribe((event) => heard.push(event.type)),
      ];
      const gone = a.events.pipe(tap(() => piped++)).subscribe();
      gone.unsubscribe();
      const { kept } = await login(a, 'hal');
      const more = await login(a, 'hal');
      expect([kept, more.kept]).toEqual([true, true]);
      expect(heard).toEqual(['created', 'owner-set', 'created', 'owner-set']);
      expect(piped).toBe(0); // an unsubscribed chain hears nothing more
      subscriptions.forEach((subscription) => subscription.unsubscribe());
    });

    it('a node with a shorter absoluteTimeout (a rolling deploy) never hides a live session from the index', async () => {
      const long = await startNode(server.url, { cluster: { nodeId: 'long' } });
      const short = await startNode(server.url, {
        absoluteTimeout: 1_500,
        cluster: { nodeId: 'short' },
      });
      nodes.push(long, short);
      const created = await long.store.create({ n: 1 });
      const session = (await short.store.get(created.id))!;
      session.setUser('ron');
      await short.store.save(session); // indexed by the node whose absoluteTimeout is 1.5 s
      const later = Date.now() + 1_600;
      await waitFor(() => Date.now() >= later, { what: "the short node's absolute timeout" });
      expect(await long.store.get(created.id)).not.toBeNull(); // alive: created on the long node
      const [info] = await long.store.sessionsForUser('ron');
      expect(info?.id).toBe(created.id);
      expect(info.absoluteExpiresAt.getTime()).toBeGreaterThan(Date.now() + 3_600_000);
      expect(await long.store.destroyAllForUser('ron')).toBe(1);
    });

    it('logins and logouts under the limit do not grow the index', async () => {
      const [a] = await twoNodes({ maxSessionsPerUser: { limit: 2, onExceed: 'refuse' } });
      for (let i = 0; i < 25; i++) {
        const { id } = await login(a, 'ida');
        await a.store.destroy(id); // a logout leaves the entry: the next listing prunes it
      }
      const index = userIndexKey(a.options.keyPrefix, 'ida');
      expect(await server.command('ZCARD', index)).toBeLessThanOrEqual(2);
    });

    it('an index key of the wrong type (Redis content) is dropped, not a 503 for ever', async () => {
      const [a] = await twoNodes({ maxSessionsPerUser: { limit: 2, onExceed: 'refuse' } });
      await server.command('SET', userIndexKey(a.options.keyPrefix, 'jay'), 'garbage');
      await server.command('SET', userClientsKey(a.options.keyPrefix, 'jay'), 'garbage');
      expect(await a.store.sessionsForUser('jay')).toEqual([]);
      const { id, kept } = await login(a, 'jay', { device: 'laptop' });
      expect(kept).toBe(true);
      expect(await a.store.sessionsForUser('jay')).toMatchObject([
        { id, client: { device: 'laptop' } },
      ]);
    });

    it('events.expired subscribes once Redis answers, when it did not at startup', async () => {
      const late = await RedisServer.start({ args: ['--notify-keyspace-events', 'Ex'] });
      const port = late.port;
      await late.dispose();
      const node = await startNode(`redis://127.0.0.1:${port}`, {
        events: { expired: true },
        ttl: 1_000,
        touchAfter: 0,
        cluster: { nodeId: 'late', subscribeTimeout: 300 },
      });
      nodes.push(node);
      const again = await RedisServer.start({ port, args: ['--notify-keyspace-events', 'Ex'] });
      try {
        const expired = firstValueFrom(node.events.pipe(filter((e) => e.type === 'expired')));
        await waitFor(() => node.redis.status === 'ready' && node.coordinator.isTrusted(), {
          what: 'the node to connect',
        });
        const { id } = await login(node, 'kim');
        expect(await expired).toEqual({ type: 'expired', id, nodeId: 'late' });
      } finally {
        await node.stop();
        await again.dispose();
      }
    });
  });

  describe('SessionEvents', () => {
    it('reports creation, owner, and each way a session ends, with the node that did it', async () => {
      const [a, b] = await twoNodes({ maxSessionsPerUser: { limit: 3, onExceed: 'end-oldest' } });
      const seen: SessionEvent[] = [];
      const subscriptions = [
        a.events.subscribe((e) => seen.push(e)),
        b.events.subscribe((e) => seen.push(e)),
      ];

      const one = await login(a, 'fox');
      expect(seen).toEqual([
        { type: 'created', id: one.id, nodeId: 'a' },
        { type: 'owner-set', id: one.id, userId: 'fox', nodeId: 'a' },
      ]);
      seen.length = 0;
      const moved = (await b.store.regenerate(one.id))!;
      expect(seen).toEqual([
        { type: 'destroyed', id: one.id, reason: 'regenerated', userId: 'fox', nodeId: 'b' },
        { type: 'created', id: moved.id, nodeId: 'b' },
      ]);
      seen.length = 0;
      await a.store.destroy(moved.id);
      expect(seen).toEqual([{ type: 'destroyed', id: moved.id, reason: 'logout', nodeId: 'a' }]);

      const [p, q, r] = [await login(a, 'fox'), await login(a, 'fox'), await login(a, 'fox')];
      seen.length = 0;
      await b.store.destroyForUser('fox', p.id);
      expect(seen).toEqual([
        { type: 'destroyed', id: p.id, reason: 'revoked', userId: 'fox', nodeId: 'b' },
      ]);
      await login(a, 'fox');
      seen.length = 0;
      await login(a, 'fox'); // the fourth: q, the least recently active, ends
      expect(seen.filter((e) => e.type === 'destroyed')).toEqual([
        { type: 'destroyed', id: q.id, reason: 'limit', userId: 'fox', nodeId: 'a' },
      ]);
      seen.length = 0;
      await b.store.destroyAllForUser('fox', { except: r.id });
      expect(seen.map((e) => [e.type, e.reason, e.nodeId])).toEqual([
        ['destroyed', 'logout-all', 'b'],
        ['destroyed', 'logout-all', 'b'],
      ]);
      subscriptions.forEach((s) => s.unsubscribe());
    });

    it("with events.expired, an expiry Redis reports comes as 'expired' (keyspace notifications)", async () => {
      await server.command('CONFIG', 'SET', 'notify-keyspace-events', 'Ex');
      try {
        const [a] = await twoNodes({ events: { expired: true }, ttl: 1_000, touchAfter: 0 });
        const expired = firstValueFrom(
          a.events.pipe(
            filter((e) => e.type === 'expired'),
            take(1),
            toArray(),
          ),
        );
        const { id } = await login(a, 'gus');
        expect(await expired).toEqual([{ type: 'expired', id, nodeId: 'a' }]);
      } finally {
        await server.command('CONFIG', 'SET', 'notify-keyspace-events', '');
      }
    });
  });
});
