import { Registry } from 'prom-client';
import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { startNode } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { waitFor } from '../../sample/support/wait-for';

/** The value of one sample in Prometheus text format, or undefined. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('Prometheus metrics (prom-client installed)', () => {
  let server: RedisServer;
  let a: ClusterSessionRuntime;
  let b: ClusterSessionRuntime;
  const registryA = new Registry();
  const registryB = new Registry();

  beforeAll(async () => {
    server = await RedisServer.start();
    a = await startNode(server.url, { metrics: { registry: registryA }, cluster: { nodeId: 'a' } });
    b = await startNode(server.url, {
      metrics: { registry: registryB, prefix: 'app_sessions_' },
      cluster: { nodeId: 'b' },
    });
  });

  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await server.dispose();
  });

  it('reports cache, messages, flushes, errors and a propagation histogram as they happen', async () => {
    const created = await a.store.create({ n: 1 });
    await b.store.get(created.id); // a miss
    await b.store.get(created.id); // a hit
    const session = (await a.store.get(created.id))!;
    session.data.n = 2;
    await a.store.save(session);
    // b holds the version a read, so it applies a's change to its copy ('update' propagation)
    await waitFor(() => b.store.updatesAppliedCount === 1, { what: 'the update at b' });

    const textB = await registryB.metrics();
    expect(sample(textB, 'app_sessions_cache_hits_total')).toBe(1);
    expect(sample(textB, 'app_sessions_cache_misses_total')).toBe(1);
    expect(sample(textB, 'app_sessions_cache_size')).toBe(1); // updated, not dropped
    expect(sample(textB, 'app_sessions_updates_applied_total')).toBe(1);
    expect(sample(textB, 'app_sessions_messages_received_total')).toBeGreaterThanOrEqual(1);
    expect(sample(textB, 'app_sessions_invalidation_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(textB, 'app_sessions_redis_errors_total')).toBe(0);
    const textA = await registryA.metrics();
    expect(sample(textA, 'cluster_session_messages_sent_total')).toBeGreaterThanOrEqual(2);
    expect(textA).toContain('# TYPE cluster_session_invalidation_lag_seconds histogram');

    server.pause();
    try {
      await expect(b.store.destroy(created.id)).rejects.toThrow(/unavailable/);
    } finally {
      server.resume();
    }
    expect(sample(await registryB.metrics(), 'app_sessions_redis_errors_total')).toBe(1);
  });

  it('unregisters its metrics when the node stops', async () => {
    const registry = new Registry();
    const c = await startNode(server.url, { metrics: { registry }, cluster: { nodeId: 'c' } });
    expect((await registry.getMetricsAsJSON()).length).toBeGreaterThan(5);
    await c.stop();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });
});
