import type { Redis } from 'ioredis';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';
import { TcpProxy } from '../support/tcp-proxy';
import { script } from '../support/script-matcher';
import { STORE_DEFAULTS } from '../support/store-fixture';
import {
  closeRedis,
  connectRedis,
  createRedisConnection,
  settleDroppedCommands,
} from '../../lib/redis/redis-connection.factory';
import type { RedisConnection } from '../../lib/redis/redis-connection.interface';
import { withCommandDeadline } from '../../lib/redis/command-deadline';
import { RedisSessionStore } from '../../lib/store/redis-session.store';
import { SessionStoreUnavailableError } from '../../lib/errors/session-store-unavailable.error';
import { Session } from '../../lib/session/session';
import { generateSessionId } from '../../lib/session/session-id.util';
import { sessionKey } from '../../lib/store/session-keys';

/**
 * What the adversarial review of G11 found, reproduced: two stores connected the way the
 * runtime connects them, one of them through a fault proxy.
 */
describe('G11 review: lost replies', () => {
  let server: RedisServer;
  let proxy: TcpProxy;
  let redis: Redis;
  const connections: RedisConnection[] = [];

  async function storeOn(url: string): Promise<RedisSessionStore> {
    const connection = createRedisConnection(url);
    settleDroppedCommands(connection.client);
    await connectRedis(connection.client);
    connections.push(connection);
    return new RedisSessionStore(withCommandDeadline(connection.client), STORE_DEFAULTS);
  }

  beforeEach(async () => {
    server = await RedisServer.start();
    proxy = await TcpProxy.start(server.port);
    redis = server.client();
  });

  afterEach(async () => {
    await Promise.all(connections.splice(0).map((connection) => closeRedis(connection)));
    redis.disconnect();
    await proxy.close();
    await server.dispose();
  });

  it('a first save retried after "log out everywhere" ended it does not bring it back (G5)', async () => {
    const a = await storeOn(proxy.url);
    const b = await storeOn(server.url);
    const session = new Session(generateSessionId(), { cart: ['book'] });
    session.setUser('alice');
    const key = sessionKey('sess:', session.id);
    // the create runs, its reply is lost, and the node cannot reconnect for a moment
    proxy.fault(script('Create'), { kind: 'drop-reply-and-close' });
    proxy.refuseConnections = true;
    const saving = a.save(session);
    await waitFor(async () => (await redis.exists(key)) === 1, { what: 'the first run' });
    // meanwhile, on another device: "log out everywhere"
    expect(await b.destroyAllForUser('alice')).toBe(1);
    proxy.refuseConnections = false;
    expect(await saving).toBe(false); // the request goes on without that session
    expect(await redis.exists(key)).toBe(0);
    expect(await b.get(session.id)).toBeNull();
    expect(await b.listForUser('alice')).toEqual([]);
  });

  it('a save that answered 503 never lands later, over a write acknowledged since', async () => {
    const a = await storeOn(proxy.url);
    const b = await storeOn(server.url);
    const created = await b.create({ k: '0' });
    const mine = (await a.get(created.id))!; // node A's request read version 1
    const other = (await b.get(created.id))!;
    other.data.k2 = 'x';
    expect(await b.save(other)).toBe(true); // version 2: A's first attempt conflicts
    mine.data.k = 'A';
    // A's second attempt (with a window of versions) goes out as its link slows to 3 s each way
    proxy.fault(script('Update'), { kind: 'delay-reply', ms: 200 });
    const saving = a.save(mine).then(
      () => 'saved',
      (error: unknown) => error,
    );
    await waitFor(async () => proxy.armedFaults === 0, { what: 'the first attempt' });
    proxy.commandDelayMs = 3_000;
    expect(await saving).toBeInstanceOf(SessionStoreUnavailableError); // a 503
    // the user's next request, on node B, is acknowledged
    const next = (await b.get(created.id))!;
    next.data.k = 'B';
    expect(await b.save(next)).toBe(true);
    const key = sessionKey('sess:', created.id);
    const acknowledged = await redis.hgetall(key);
    // everything A sent has reached Redis by now (3 s each way, sent before the 503)
    const sentBefore = Date.now();
    await waitFor(async () => Date.now() - sentBefore > 3_500, { what: "A's late runs" });
    proxy.commandDelayMs = 0;
    expect(await redis.hgetall(key)).toEqual(acknowledged);
    expect(acknowledged['d:k']).toBe('"B"');
  });
});
