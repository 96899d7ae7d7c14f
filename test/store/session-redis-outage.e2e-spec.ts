import { SessionStoreUnavailableError } from '../../lib/errors/session-store-unavailable.error';
import { RedisServer } from '../../sample/support/redis-server';
import { openStore, type StoreFixture } from '../support/store-fixture';
import { waitFor } from '../../sample/support/wait-for';

describe('RedisSessionStore: Redis outages', () => {
  let server: RedisServer;
  let fixture: StoreFixture<Record<string, unknown>>;

  beforeAll(async () => {
    server = await RedisServer.start();
    fixture = await openStore(server);
  });

  afterAll(async () => {
    await fixture.close();
    await server.dispose();
  });

  async function elapsed(call: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
    const started = Date.now();
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    return { ms: Date.now() - started, error };
  }

  it('fails fast with a typed error while Redis is stopped, and recovers without a restart', async () => {
    const { store } = fixture;
    const session = await store.create({ user: 'ann' });
    await server.stop();

    for (const call of [
      () => store.get(session.id),
      () => store.save(session),
      () => store.create({}),
    ]) {
      const { ms, error } = await elapsed(call);
      expect(error).toBeInstanceOf(SessionStoreUnavailableError);
      expect(ms).toBeLessThan(2_500);
    }

    await server.restart(); // empty memory: the session is gone, but the store works again
    await waitFor(async () => (await store.create({ user: 'back' })).version === 1, {
      timeoutMs: 5_000,
      what: 'the store to reconnect',
    });
    expect(await store.get(session.id)).toBeNull();
  });

  it('times out with a typed error when Redis hangs (paused), within the command timeout', async () => {
    const { store } = fixture;
    const session = await store.create({ user: 'bob' });
    server.pause();
    try {
      const { ms, error } = await elapsed(() => store.get(session.id));
      expect(error).toBeInstanceOf(SessionStoreUnavailableError);
      expect((error as Error).message).toMatch(
        /session store unavailable during get: Command timed out/,
      );
      expect(ms).toBeLessThan(2_500);
    } finally {
      server.resume();
    }
    expect((await store.get(session.id))?.data).toEqual({ user: 'bob' });
  });
});
