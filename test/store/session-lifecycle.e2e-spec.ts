import { RedisServer } from '../../sample/support/redis-server';
import { openStore, type StoreFixture } from '../support/store-fixture';
import { waitFor } from '../../sample/support/wait-for';
import { sessionKey, userIndexKey } from '../../lib/store/session-keys';

interface Data {
  username?: string;
  cart?: { items: string[] };
  theme?: string;
  [key: string]: unknown;
}

describe('RedisSessionStore: lifecycle', () => {
  let server: RedisServer;
  let fixture: StoreFixture<Data>;

  beforeAll(async () => {
    server = await RedisServer.start();
    fixture = await openStore<Data>(server, { touchAfter: 300 });
  });

  afterAll(async () => {
    await fixture.close();
    await server.dispose();
  });

  it('creates a session and reads it back as a separate copy', async () => {
    const created = await fixture.store.create({ username: 'ann', cart: { items: ['a'] } });
    expect(created.isNew).toBe(false);
    expect(created.version).toBe(1);

    const read = await fixture.store.get(created.id);
    expect(read?.data).toEqual({ username: 'ann', cart: { items: ['a'] } });
    expect(read?.version).toBe(1);
    expect(read?.createdAt).toBe(created.createdAt);
    expect(read?.data).not.toBe(created.data);
  });

  it('saves changed and removed top-level keys and bumps the version', async () => {
    const { store, redis } = fixture;
    const session = await store.create({ username: 'bob', theme: 'dark', cart: { items: [] } });
    session.data.cart?.items.push('book');
    delete session.data.theme;
    expect(await store.save(session)).toBe(true);
    expect(session.version).toBe(2);

    const read = await store.get(session.id);
    expect(read?.data).toEqual({ username: 'bob', cart: { items: ['book'] } });
    expect(read?.version).toBe(2);
    expect(await redis.hexists(sessionKey('sess:', session.id), 'd:theme')).toBe(0);
  });

  it('create() stores the session at once', async () => {
    const session = await fixture.store.create();
    expect(await fixture.redis.exists(sessionKey('sess:', session.id))).toBe(1);
    expect(await fixture.store.get(session.id)).not.toBeNull();
  });

  it('saves and removes thousands of keys at once', async () => {
    const many = await openStore<Data>(server, { keyPrefix: 'many:', maxSessionBytes: 1_000_000 });
    try {
      const data: Data = {};
      for (let i = 0; i < 5_000; i++) {
        data[`k${i}`] = i;
      }
      const session = await many.store.create(data);
      expect(Object.keys((await many.store.get(session.id))!.data)).toHaveLength(5_000);
      session.data = { k0: 'only' };
      await many.store.save(session);
      expect((await many.store.get(session.id))!.data).toEqual({ k0: 'only' });
    } finally {
      await many.close();
    }
  });

  it('sets the idle timeout as the key TTL', async () => {
    const session = await fixture.store.create({ username: 'ttl' });
    const pttl = await fixture.redis.pttl(sessionKey('sess:', session.id));
    expect(pttl).toBeGreaterThan(59_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(session.expiresAt - Date.now()).toBeGreaterThan(59_000);
  });

  it('touches at most once per touchAfter', async () => {
    const { store, redis } = fixture;
    const session = await store.create({ username: 'touch' });
    const key = sessionKey('sess:', session.id);
    await redis.pexpire(key, 30_000); // shorten, so a refresh is visible

    expect(await store.touch(session.id)).toBe(true);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(30_000); // throttled: not refreshed

    await waitFor(
      async () => {
        await store.touch(session.id);
        return (await redis.pttl(key)) > 30_000;
      },
      { timeoutMs: 3_000, intervalMs: 50, what: 'a touch after touchAfter to refresh the TTL' },
    );
    expect(await store.touch('x'.repeat(43))).toBe(false);
  });

  it('regenerates: new id, same data, old id gone', async () => {
    const { store, redis } = fixture;
    const session = await store.create({ username: 'fixation' });
    const fresh = await store.regenerate(session.id);

    expect(fresh?.id).not.toBe(session.id);
    expect(fresh?.data).toEqual({ username: 'fixation' });
    expect(fresh?.version).toBe(2);
    expect(await store.get(session.id)).toBeNull();
    expect(await redis.exists(sessionKey('sess:', session.id))).toBe(0);
    expect((await store.get(fresh!.id))?.data).toEqual({ username: 'fixation' });
    expect(await store.regenerate(session.id)).toBeNull();
  });

  it('destroys', async () => {
    const session = await fixture.store.create({ username: 'gone' });
    expect(await fixture.store.destroy(session.id)).toBe(true);
    expect(await fixture.store.get(session.id)).toBeNull();
    expect(await fixture.store.destroy(session.id)).toBe(false);
  });

  it('keeps a per-user index: list, move, regenerate, destroy all', async () => {
    const { store } = fixture;
    const a = await store.create({ username: 'carol' });
    const b = await store.create({ username: 'carol' });
    const other = await store.create({ username: 'dave' });
    for (const session of [a, b]) {
      session.setUser('carol');
      await store.save(session);
    }
    other.setUser('dave');
    await store.save(other);
    expect((await store.listForUser('carol')).sort()).toEqual([a.id, b.id].sort());

    b.setUser('dave'); // moves b to another user
    await store.save(b);
    expect(await store.listForUser('carol')).toEqual([a.id]);
    expect((await store.listForUser('dave')).sort()).toEqual([b.id, other.id].sort());

    const regenerated = await store.regenerate(a.id);
    expect(regenerated?.userId).toBe('carol');
    expect(await store.listForUser('carol')).toEqual([regenerated!.id]);

    expect(await store.destroyAllForUser('dave')).toBe(2);
    expect(await store.get(b.id)).toBeNull();
    expect(await store.get(other.id)).toBeNull();
    expect(await store.listForUser('dave')).toEqual([]);
    expect(await store.get(regenerated!.id)).not.toBeNull();

    regenerated!.setUser(null);
    await store.save(regenerated!);
    expect(await store.listForUser('carol')).toEqual([]);
  });

  it('prunes expired sessions from the user index lazily', async () => {
    const short = await openStore<Data>(server, { keyPrefix: 'short:', ttl: 200, touchAfter: 0 });
    try {
      const session = await short.store.create({ username: 'eve' });
      session.setUser('eve');
      await short.store.save(session);
      expect(await short.store.listForUser('eve')).toEqual([session.id]);

      await waitFor(async () => (await short.store.get(session.id)) === null, {
        what: 'idle expiry',
      });
      expect(await short.store.listForUser('eve')).toEqual([]);
      expect(await short.redis.zcard(userIndexKey('short:', 'eve'))).toBe(0);
    } finally {
      await short.close();
    }
  });

  it('clears every session under its prefix, and only those', async () => {
    const other = await openStore<Data>(server, { keyPrefix: 'other:' });
    try {
      const mine = await fixture.store.create({ username: 'x' });
      const theirs = await other.store.create({ username: 'y' });
      await fixture.store.clear();
      expect(await fixture.store.get(mine.id)).toBeNull();
      expect(await other.store.get(theirs.id)).not.toBeNull();
      expect(await fixture.redis.keys('sess:*')).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
