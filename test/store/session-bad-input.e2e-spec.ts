import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { InvalidSessionDataError } from '../../lib/errors/invalid-session-data.error';
import { SessionTooLargeError } from '../../lib/errors/session-too-large.error';
import { Session } from '../../lib/session/session';
import { SessionCookieSigner } from '../../lib/session/session-cookie.signer';
import { generateSessionId, isSessionId, sessionRef } from '../../lib/session/session-id.util';
import { RedisServer } from '../../sample/support/redis-server';
import { roundTrips } from '../support/cluster-fixture';
import { openStore, type StoreFixture } from '../support/store-fixture';
import { sessionKey } from '../../lib/store/session-keys';

type Data = Record<string, unknown>;

describe('RedisSessionStore: bad input', () => {
  let server: RedisServer;
  let fixture: StoreFixture<Data>;

  beforeAll(async () => {
    server = await RedisServer.start();
    fixture = await openStore(server, { maxSessionBytes: 1_024 });
  });

  afterAll(async () => {
    await fixture.close();
    await server.dispose();
  });

  /** Every command Redis has run, from INFO commandstats (INFO itself excluded). */
  async function allCommands(): Promise<number> {
    const info = await fixture.redis.info('commandstats');
    let calls = 0;
    for (const [, name, count] of info.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
      if (name !== 'info') {
        calls += Number(count);
      }
    }
    return calls;
  }

  it('100,000 generated ids that are not session ids cause no Redis command at all', async () => {
    const valid = generateSessionId();
    const notAnId = fc
      .oneof(
        fc.string(),
        fc.string({ minLength: 43, maxLength: 43 }),
        fc
          .tuple(fc.nat(42), fc.string({ minLength: 1, maxLength: 2 }))
          .map(([at, s]) => valid.slice(0, at) + s + valid.slice(at + 1)),
      )
      .filter((id) => !isSessionId(id));
    const before = await allCommands();
    await fc.assert(
      fc.asyncProperty(notAnId, async (id) => {
        const { store } = fixture;
        return (
          (await store.get(id)) === null &&
          (await store.destroy(id)) === false &&
          (await store.touch(id)) === false &&
          (await store.regenerate(id)) === null
        );
      }),
      { numRuns: 100_000 },
    );
    expect(await allCommands()).toBe(before);
  });

  it('a tampered or malformed cookie never reaches Redis', async () => {
    const signer = new SessionCookieSigner('k'.repeat(32));
    const session = await fixture.store.create({ user: 'ann' });
    const good = signer.sign(session.id);
    const before = await roundTrips(fixture);
    const cookies = [
      `${good.slice(0, -2)}${good.endsWith('xx') ? 'yy' : 'xx'}`,
      `${good.startsWith('A') ? 'B' : 'A'}${good.slice(1)}`,
      'garbage',
      '',
      good.split('.')[0],
      'a.b.c',
    ];
    for (const cookie of cookies) {
      expect(signer.unsign(cookie)).toBeNull();
    }
    // and the store itself refuses ids of the wrong shape before any Redis call
    for (const id of [
      '',
      'short',
      `${session.id}x`,
      `${session.id.slice(1)}*`,
      '../../etc',
      'sess:*',
    ]) {
      expect(await fixture.store.get(id)).toBeNull();
      expect(await fixture.store.destroy(id)).toBe(false);
      expect(await fixture.store.touch(id)).toBe(false);
      expect(await fixture.store.regenerate(id)).toBeNull();
    }
    expect(await roundTrips(fixture)).toBe(before);
    expect((await fixture.store.get(signer.unsign(good)!.id))?.data).toEqual({ user: 'ann' });
  });

  it('an oversized save fails with a typed error and writes nothing', async () => {
    const created = await fixture.store.create({ user: 'big' });
    const loaded = await fixture.store.get(created.id);
    loaded!.data.blob = 'x'.repeat(2_000);
    await expect(fixture.store.save(loaded!)).rejects.toThrow(SessionTooLargeError);
    await expect(fixture.store.save(loaded!)).rejects.toThrow(
      /limit 1 KB \(option maxSessionBytes\)/,
    );
    expect((await fixture.store.get(created.id))?.data).toEqual({ user: 'big' });
    expect((await fixture.store.get(created.id))?.version).toBe(1);

    const fresh = new Session(generateSessionId(), { blob: 'x'.repeat(2_000) });
    await expect(fixture.store.save(fresh)).rejects.toThrow(SessionTooLargeError);
    expect(await fixture.redis.exists(sessionKey('sess:', fresh.id))).toBe(0);
  });

  it('unserializable data and bad user ids fail with a typed error and write nothing', async () => {
    const session = await fixture.store.create({ user: 'x' });
    session.data.big = 10n;
    await expect(fixture.store.save(session)).rejects.toThrow(InvalidSessionDataError);
    delete session.data.big;
    session.setUser('');
    await expect(fixture.store.save(session)).rejects.toThrow(/userId/);
    expect((await fixture.store.get(session.id))?.version).toBe(1);
  });

  it('corrupt hashes are no session, logged once, never thrown', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const { redis, store } = fixture;
      const badJson = generateSessionId();
      await redis.hset(
        sessionKey('sess:', badJson),
        'v',
        '1',
        'created',
        '1',
        'expires',
        String(Date.now() + 60_000),
        'touched',
        '1',
        'd:x',
        '{oops',
      );
      await redis.pexpire(sessionKey('sess:', badJson), 60_000);
      const noVersion = generateSessionId();
      await redis.hset(sessionKey('sess:', noVersion), 'd:x', '1');
      await redis.pexpire(sessionKey('sess:', noVersion), 60_000);
      const notAHash = generateSessionId();
      await redis.set(sessionKey('sess:', notAHash), 'hello', 'PX', 60_000);

      for (const id of [badJson, noVersion, notAHash, badJson, notAHash]) {
        await expect(store.get(id)).resolves.toBeNull();
      }
      const logged = warn.mock.calls.map(([message]) => String(message));
      expect(logged).toHaveLength(3);
      expect(logged.join('\n')).toMatch(/corrupt session .* \(field d:x is not JSON\)/);
      expect(logged.join('\n')).toMatch(/\(bad version\)/);
      expect(logged.join('\n')).toMatch(/\(not a hash\)/);
      // sessions are named by a hash of the id: no id, nor any piece of one, in the logs
      for (const id of [badJson, noVersion, notAHash]) {
        expect(logged.join('\n')).not.toContain(id.slice(0, 6));
        expect(logged.join('\n')).toContain(sessionRef(id));
      }
      expect(await redis.exists(sessionKey('sess:', badJson))).toBe(1); // nothing is lost: left for inspection
    } finally {
      warn.mockRestore();
    }
  });
  it('#17 review: a save over stored metadata in odd but readable form writes it whole, or nothing', async () => {
    const { redis, store } = fixture;
    const saved = async (edit: (key: string) => Promise<unknown>) => {
      const session = await store.create({ n: 0 });
      const key = sessionKey('sess:', session.id);
      await edit(key);
      const loaded = (await store.get(session.id))!;
      loaded.data.n = 1;
      return { key, loaded, result: await store.save(loaded) };
    };
    // a cookie lifetime with leading zeros, read as 60000: the save sets that expiry, and the data
    const zeros = await saved((key) => redis.hset(key, 'm', '0060000'));
    expect(zeros.result).toBe(true);
    expect(await redis.hget(zeros.key, 'd:n')).toBe('1');
    expect(await redis.pttl(zeros.key)).toBeGreaterThan(59_000);
    expect(await redis.pttl(zeros.key)).toBeLessThanOrEqual(60_000);
    // a version past 14 digits stays an integer, and the session stays readable
    const big = await saved((key) => redis.hset(key, 'v', '99999999999999'));
    expect(big.result).toBe(true);
    expect(await redis.hget(big.key, 'v')).toBe('100000000000000');
    expect((await store.get(big.loaded.id))?.version).toBe(100_000_000_000_000);
    // a creation time that is not a number: no session, nothing written
    const session = await store.create({ n: 0 });
    const key = sessionKey('sess:', session.id);
    const loaded = (await store.get(session.id))!;
    await redis.hset(key, 'created', 'abc');
    loaded.data.n = 1;
    expect(await store.save(loaded)).toBe(false);
    expect(await redis.hget(key, 'd:n')).toBe('0');
    expect(await redis.hget(key, 'v')).toBe('1');
  });
});
