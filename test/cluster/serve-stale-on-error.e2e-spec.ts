import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { SessionStoreUnavailableError } from '../../lib/errors/session-store-unavailable.error';
import { startNode } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

// long enough that a loaded CI machine reaches the stale read before the copy ages out
const TTL = 3_000;

describe('serveStaleOnError: cached copies while Redis is unreachable', () => {
  let server: RedisServer;
  let a: ClusterSessionRuntime;
  let b: ClusterSessionRuntime;
  let strict: ClusterSessionRuntime;

  beforeEach(async () => {
    server = await RedisServer.start();
    const cluster = { localCacheTtl: TTL };
    a = await startNode(server.url, { cluster: { ...cluster, nodeId: 'a' } });
    b = await startNode(server.url, {
      serveStaleOnError: true,
      cluster: { ...cluster, nodeId: 'b' },
    });
    strict = await startNode(server.url, { cluster: { ...cluster, nodeId: 'strict' } });
  });

  afterEach(async () => {
    await Promise.all([a.stop(), b.stop(), strict.stop()]);
    await server.dispose();
  });

  it('serves a copy at most localCacheTtl old, never one known destroyed or older than the cookie', async () => {
    const kept = await a.store.create({ n: 1 });
    const destroyed = await a.store.create({ n: 1 });
    const filledAt = Date.now();
    for (const node of [b, strict]) {
      for (const { id } of [kept, destroyed]) {
        await node.store.get(id);
      }
    }
    const keptFilledBy = Date.now(); // b cached `kept` before this
    const received = b.coordinator!.stats().received;
    await a.store.destroy(destroyed.id);
    await waitFor(() => b.coordinator!.stats().received > received, { what: 'the destroy at b' });

    await server.stop();
    await waitFor(() => !b.coordinator!.isTrusted(), { what: 'b to notice' });
    expect((await b.store.get(kept.id))?.data).toEqual({ n: 1 });
    expect(b.store.staleReadsServed).toBe(1);
    await expect(b.store.get(kept.id, { minVersion: kept.version + 1 })).rejects.toThrow(
      SessionStoreUnavailableError,
    );
    await expect(b.store.get(destroyed.id)).rejects.toThrow(SessionStoreUnavailableError);
    await expect(strict.store.get(kept.id)).rejects.toThrow(SessionStoreUnavailableError);
    // and a copy older than localCacheTtl is not served
    let lastServedAt = 0;
    const failedAt = await waitFor(
      async () => {
        if (!(await b.store.get(kept.id).catch(() => null))) {
          return Date.now();
        }
        lastServedAt = Date.now();
        return 0;
      },
      { timeoutMs: 3 * TTL, what: 'the stale copy to age out' },
    );
    expect(failedAt - filledAt).toBeGreaterThanOrEqual(TTL - 50); // served until then
    // measured from the last read that was served, not from the poll that noticed the change
    expect(lastServedAt - keptFilledBy).toBeLessThanOrEqual(TTL + 100);
    // writes still fail
    kept.data.n = 2;
    await expect(b.store.save(kept)).rejects.toThrow(SessionStoreUnavailableError);
  });
});
