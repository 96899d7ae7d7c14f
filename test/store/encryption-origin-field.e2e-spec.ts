import type { Redis } from 'ioredis';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { sessionKey } from '../../lib/store/session-keys';
import { startNode } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';

/**
 * README, encryption at rest: whoever can write Redis "cannot forge or read a value, nor move one
 * to another session or field". Input: someone with write access copies the victim's hash over
 * the key of a session they hold a cookie for, and sets the unauthenticated field `o` to the
 * victim's id. Values are then decrypted with the victim's id as AAD: the attacker's cookie now
 * carries the victim's (decrypted) session.
 */
describe('#14 review: encryption and the unauthenticated origin field', () => {
  let server: RedisServer;
  let redis: Redis;
  let node: ClusterSessionRuntime;
  let reader: ClusterSessionRuntime; // another node: nothing of either session in its cache

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = server.client();
    node = await startNode(server.url, { encryption: true, cluster: { nodeId: 'n' } });
    reader = await startNode(server.url, {
      encryption: true,
      cluster: { nodeId: 'r', localCacheEnabled: false },
    });
  });

  afterAll(async () => {
    await Promise.all([node.stop(), reader.stop()]);
    redis.disconnect();
    await server.dispose();
  });

  it('values copied to another session do not decrypt there', async () => {
    const victim = await node.store.create({ username: 'admin', role: 'superuser' });
    const attacker = await node.store.create({ username: 'mallory' }); // attacker holds its cookie
    const victimKey = sessionKey('sess:', victim.id);
    const attackerKey = sessionKey('sess:', attacker.id);

    // copy without `o`: rejected, as claimed
    await redis.copy(victimKey, attackerKey, 'REPLACE');
    expect(await reader.store.get(attacker.id)).toBeNull();

    // the same copy plus `o` = the victim's id
    await redis.copy(victimKey, attackerKey, 'REPLACE');
    await redis.hset(attackerKey, 'o', victim.id);
    const seen = await reader.store.get(attacker.id);
    expect(seen?.data ?? null).toBeNull(); // FAILS: { username: 'admin', role: 'superuser' }
  });
});
