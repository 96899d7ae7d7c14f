import { Logger } from '@nestjs/common';
import { resolveOptions } from '../../lib/options/resolve-options';
import { sessionKey } from '../../lib/store/session-keys';
import { RedisServer } from '../../sample/support/redis-server';
import { openStore, type StoreFixture } from '../support/store-fixture';

type Data = Record<string, unknown>;
const KEY_A = 'a'.repeat(64);
const KEY_B = Buffer.alloc(32, 7).toString('base64');

describe('RedisSessionStore: encryption at rest', () => {
  let server: RedisServer;
  const opened: StoreFixture<Data>[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(opened.map((fixture) => fixture.close()));
    await server.dispose();
  });

  async function store(keys: string[]) {
    const { encryptionKeys } = resolveOptions({ secret: 's'.repeat(32), encryption: { keys } });
    const fixture = await openStore<Data>(server, { encryptionKeys });
    opened.push(fixture);
    return fixture;
  }

  it('stores no value in clear, and reads it back', async () => {
    const { store: encrypted, redis } = await store([KEY_A]);
    const session = await encrypted.create({ card: '4111-1111', nested: { role: 'admin' } });
    const stored = await redis.hgetall(sessionKey('sess:', session.id));
    expect(JSON.stringify(stored)).not.toMatch(/4111|admin/);
    expect(stored['d:card']).toMatch(/^e1:/);
    expect((await encrypted.get(session.id))?.data).toEqual({
      card: '4111-1111',
      nested: { role: 'admin' },
    });
  });

  it('a tampered or swapped ciphertext is no session (logged once), never an error', async () => {
    const { store: encrypted, redis } = await store([KEY_A]);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const victim = await encrypted.create({ role: 'user' });
      const admin = await encrypted.create({ role: 'admin' });
      const key = sessionKey('sess:', victim.id);
      // another session's ciphertext, copied over: bound to its own id, so it does not decrypt
      const adminRole = await redis.hget(sessionKey('sess:', admin.id), 'd:role');
      await redis.hset(key, 'd:role', adminRole!);
      expect(await encrypted.get(victim.id)).toBeNull();
      expect(await encrypted.get(victim.id)).toBeNull();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/does not decrypt/);
      expect(await redis.exists(key)).toBe(1); // left for inspection: nothing is lost
    } finally {
      warn.mockRestore();
    }
  });

  it('rotates keys: [new, old] reads what old wrote and writes with new', async () => {
    const old = await store([KEY_B]);
    const written = await old.store.create({ n: 1 });
    const rotated = await store([KEY_A, KEY_B]);
    const session = (await rotated.store.get(written.id))!;
    expect(session.data).toEqual({ n: 1 });
    session.data.n = 2;
    await rotated.store.save(session);
    const onlyNew = await store([KEY_A]);
    expect((await onlyNew.store.get(written.id))?.data).toEqual({ n: 2 });
    expect(await old.store.get(written.id)).toBeNull(); // the retired key alone no longer reads it
  });

  it('encryption: true derives the key from the secret', async () => {
    const secret = 'derive-me-a-key-from-this-32-char-secret';
    const { encryptionKeys } = resolveOptions({ secret, encryption: true });
    const derived = await openStore<Data>(server, { encryptionKeys });
    opened.push(derived);
    const session = await derived.store.create({ x: 'private' });
    expect(
      JSON.stringify(await derived.redis.hgetall(sessionKey('sess:', session.id))),
    ).not.toMatch(/private/);
    expect((await derived.store.get(session.id))?.data).toEqual({ x: 'private' });
  });
});
