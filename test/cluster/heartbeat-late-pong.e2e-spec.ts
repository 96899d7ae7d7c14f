import type { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { startNode } from '../support/cluster-fixture';
import { RedisServer } from '../../sample/support/redis-server';
import { TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../../sample/support/wait-for';

/**
 * G4: "while ... a heartbeat goes unanswered, the node serves nothing from its cache".
 * Interleaving: b's subscriber link is delayed by 1,500 ms (heartbeatInterval 200 ms). Each PING
 * misses, but every late PONG of an *older* PING clears the timer of the *current* PING
 * (clearTimeout(this.pingTimer)) and sets heartbeatOk back to true: b keeps regaining trust
 * while every PING it sent is unanswered for >1 s, and serves copies that invalidations
 * (1.5 s late) have already superseded.
 */
describe('#14 review: heartbeat with a delayed subscriber link', () => {
  let server: RedisServer;
  let proxy: TcpProxy;
  let a: ClusterSessionRuntime;
  let b: ClusterSessionRuntime;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await TcpProxy.start(server.port);
    a = await startNode(server.url, { cluster: { nodeId: 'a' } });
    b = await startNode(`redis://127.0.0.1:${proxy.port}`, {
      cluster: { nodeId: 'b', heartbeatInterval: 200 },
    });
    await waitFor(() => a.coordinator!.isTrusted() && b.coordinator!.isTrusted());
  });

  afterAll(async () => {
    proxy.subscriberDelayMs = 0;
    await new Promise((r) => setTimeout(r, 2_000)); // the delayed replies drain first
    await Promise.all([a.stop(), b.stop()]);
    await proxy.close();
    await server.dispose();
  });

  it('a node whose PINGs are answered 1.5 s late (7x the interval) never trusts its cache', async () => {
    proxy.subscriberDelayMs = 1_500;
    await waitFor(() => !b.coordinator!.isTrusted(), { what: 'the first missed heartbeat' });
    await new Promise((r) => setTimeout(r, 1_600)); // the late PONGs start arriving

    let trustedSamples = 0;
    let staleRead: unknown = null;
    const deadline = Date.now() + 4_000;
    while (Date.now() < deadline && staleRead === null) {
      if (!b.coordinator!.isTrusted()) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      trustedSamples++;
      const session = await a.store.create({ n: 1 });
      await b.store.get(session.id); // miss: filled from Redis while trusted
      session.data.n = 2;
      await a.store.save(session); // the invalidation reaches b 1.5 s later
      const hits = b.store.cacheStats().hits;
      const seen = await b.store.get(session.id); // another client, no newer cookie
      if (b.store.cacheStats().hits === hits + 1 && seen?.data.n === 1) {
        staleRead = seen.data;
      }
    }
    expect({ trustedSamples, staleRead }).toEqual({ trustedSamples: 0, staleRead: null });
  }, 15_000);
});
