import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { Session } from '../../lib/session/session';
import { generateSessionId, generateSessionIdLike } from '../../lib/session/session-id.util';
import { RedisSessionStore } from '../../lib/store/redis-session.store';
import { SLOT_TAG_LENGTH, sessionKey } from '../../lib/store/session-keys';
import type { Cluster, Redis } from 'ioredis';
import { startNode } from '../support/cluster-fixture';
import { RedisCluster } from '../support/redis-cluster';
import { waitFor } from '../../sample/support/wait-for';

type Data = { n: number };
const SESSIONS = 40;

/**
 * A slot holding live sessions moves to another primary while one node saves them and another
 * reads them, and the subscribers are cut halfway: no acknowledged save is lost, and no read
 * returns a version older than one already acknowledged to the reader's client.
 */
describe('Redis Cluster: moving a slot under load', () => {
  let cluster: RedisCluster;
  let writer: ClusterSessionRuntime;
  let reader: ClusterSessionRuntime;
  let readerCluster: Cluster;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    writer = await startNode({ clusterNodes: cluster.nodes }, { cluster: { nodeId: 'writer' } });
    // the reader runs on an ioredis Cluster its application owns (the writer on seed nodes)
    readerCluster = cluster.client({ lazyConnect: true });
    reader = await startNode(readerCluster, { cluster: { nodeId: 'reader' } });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([writer?.stop(), reader?.stop()]);
    readerCluster?.disconnect();
    await cluster?.dispose();
  });

  it('loses no acknowledged save and serves no stale read while the slot migrates', async () => {
    // sessions sharing one hash tag, so one slot holds them all
    const seed = generateSessionId();
    const sessions: Session<Data>[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const session = new Session<Data>(generateSessionIdLike(seed, SLOT_TAG_LENGTH), { n: 0 });
      await writer.store.save(session);
      sessions.push(session);
    }
    const slot = Number(await writer.redis.cluster('KEYSLOT', sessionKey('sess:', seed)));
    const from = await cluster.ownerOf(slot);
    for (const { id } of sessions) {
      await reader.store.get(id); // cached on the reader
    }

    // acknowledged[i]: the highest n and version whose save returned
    const acknowledged = sessions.map(() => ({ n: 0, version: 1 }));
    const counts = { saves: 0, saveErrors: 0, reads: 0, readErrors: 0, stale: 0 };
    let running = true;
    const writing = (async () => {
      while (running) {
        for (const [i, session] of sessions.entries()) {
          session.data.n++;
          try {
            await writer.store.save(session);
            acknowledged[i] = { n: session.data.n, version: session.version };
            counts.saves++;
          } catch {
            counts.saveErrors++; // not acknowledged; the next save carries the same delta again
          }
        }
      }
    })();
    const reading = (async () => {
      while (running) {
        for (const [i, { id }] of sessions.entries()) {
          const known = acknowledged[i];
          try {
            // as a request carrying the cookie of the latest acknowledged write would (G9)
            const read = await reader.store.get(id, { minVersion: known.version });
            counts.reads++;
            if (!read || (read.data.n as number) < known.n) {
              counts.stale++;
            }
          } catch {
            counts.readErrors++;
          }
          await new Promise(setImmediate);
        }
      }
    })();

    // after each key moved, wait for a few more saves and reads: clients meet the half-moved slot
    const moved = await cluster.migrateSlot(slot, (from + 1) % 3, {
      afterStep: async () => {
        const { saves, reads } = counts;
        await waitFor(() => counts.saves >= saves + 3 && counts.reads >= reads + 3, {
          what: 'saves and reads during the migration',
        });
      },
    });
    await cluster.killPubSubClients();
    await waitFor(() => counts.saves > SESSIONS * 3, {
      timeoutMs: 10_000,
      what: 'saves after the move',
    });
    running = false;
    await Promise.all([writing, reading]);

    expect(moved).toBe(SESSIONS);
    expect(await cluster.ownerOf(slot)).toBe((from + 1) % 3);
    expect(counts.stale).toBe(0);
    await waitFor(() => reader.coordinator!.isTrusted(), { what: 'the reader to resubscribe' });
    const direct = new RedisSessionStore<Data>(writer.redis, writer.options); // no cache
    for (const [i, { id }] of sessions.entries()) {
      const stored = (await direct.get(id))!.data.n;
      expect(stored).toBeGreaterThanOrEqual(acknowledged[i].n); // nothing acknowledged is lost
      await waitFor(async () => (await reader.store.get(id))?.data.n === stored, {
        what: `the reader to serve what Redis holds for session ${i}`,
      });
    }
    console.log(`slot migration under load: ${JSON.stringify({ moved, ...counts })}`);
  });

  it('when the node under a subscriber dies, the subscriber moves to another node, then flushes', async () => {
    const subscriber = (reader.coordinator as unknown as { subscriber: { client: Redis } })
      .subscriber.client;
    const victim = cluster.servers.find(({ port }) => port === subscriber.options.port)!;
    const flushes = reader.coordinator!.stats().flushes;
    await victim.stop();
    try {
      await waitFor(() => !reader.coordinator!.isTrusted(), {
        what: 'the reader to distrust its cache',
      });
      await waitFor(() => reader.coordinator!.isTrusted(), {
        timeoutMs: 15_000,
        what: 'the subscriber to come back on another node',
      });
      expect(subscriber.options.port).not.toBe(victim.port);
      expect(reader.coordinator!.stats().flushes).toBeGreaterThan(flushes);
    } finally {
      await victim.restart(); // rejoins with its nodes.conf (its keys are gone: no persistence)
    }
  });
});
