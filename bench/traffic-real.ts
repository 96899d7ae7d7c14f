import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterSessionRuntime } from '../lib/cluster-session.runtime';
import { resolveOptions } from '../lib/options/resolve-options';
import { SessionHandle } from '../lib/session/session-handle';
import type { SessionStore } from '../lib/store/session-store';
import { RedisServer } from '../sample/support/redis-server';
import { TEST_SECRET } from '../test/support/cluster-fixture';
import { commandStats } from './support/redis-commands';
import { sessionPayload } from './support/session-payload';
import type { TrafficCase } from './traffic-model';

/** What a real run measured, in the model's terms (per request counted after the warm-up). */
export interface RealTrafficResult {
  requests: number;
  hitRate: number;
  perRequest: { reads: number; updates: number; touches: number };
}

/**
 * #28: the traffic model's case run for real, time-scaled: `c.nodes` runtimes of this module in
 * this process on a Redis of their own, each user a loop of page views (exponential think time)
 * firing bursts of calls, each call a request as the HTTP layer makes it (a `SessionHandle`
 * loaded with the user's cookie, `visits` incremented for a write, committed: a save, a touch
 * when one is due, or nothing). Every time of the case (think time, burst, cache lifetime,
 * touchAfter, duration, warm-up) is multiplied by `scale`, so ten minutes of traffic run in
 * thirty seconds at 1/20; the hit rate and the commands per request do not depend on the scale
 * while Redis answers in far less than the scaled times. Reads from Redis are counted as the
 * read transactions' `EXEC`s, updates as the saves made, touches as the other scripts run.
 */
export async function realTraffic(c: TrafficCase, scale: number): Promise<RealTrafficResult> {
  const redis = await RedisServer.start();
  const nodes = Array.from(
    { length: c.nodes },
    (_, i) =>
      new ClusterSessionRuntime(
        resolveOptions({
          secret: TEST_SECRET,
          redis: redis.url,
          touchAfter: Math.round(c.touchAfter * scale),
          cluster: {
            nodeId: `real-${i}`,
            localCacheTtl: Math.round(c.localCacheTtl * scale),
            localCacheMaxSize: c.localCacheMaxSize,
            propagation: c.propagation,
          },
        }),
      ),
  );
  try {
    await Promise.all(nodes.map((node) => node.start()));
    const cookies = await Promise.all(
      Array.from({ length: c.users }, async (_, i) => {
        const session = await nodes[0].store.create(sessionPayload(i));
        return { id: session.id, version: session.version };
      }),
    );
    const home = cookies.map(() => Math.floor(Math.random() * c.nodes));
    const exponential = (mean: number) => -mean * Math.log(1 - Math.random());
    const started = Date.now();
    const countFrom = started + c.warmupMs * scale;
    const stopAt = started + c.durationMs * scale;
    let counting = false;
    let requests = 0;
    let saves = 0;
    const counters = { exec: 0, evalsha: 0 };

    const call = async (user: number) => {
      const node =
        nodes[c.routing === 'affinity' ? home[user] : Math.floor(Math.random() * c.nodes)];
      const request = await new SessionHandle(
        node.store as unknown as SessionStore,
        cookies[user],
        node.options,
      ).load();
      const write = Math.random() < c.writeShare;
      if (write) {
        request.data.visits = Number(request.data.visits) + 1;
      }
      const action = await request.commit();
      if (action && 'set' in action) {
        cookies[user] = { id: action.set, version: action.version };
      }
      if (counting) {
        requests++;
        saves += write ? 1 : 0;
      }
    };
    const user = async (index: number) => {
      await sleep(exponential(c.thinkMs) * scale);
      while (Date.now() < stopAt) {
        for (let i = 0; i < c.burst; i++) {
          if (i > 0) {
            await sleep((c.burstMs * scale) / (c.burst - 1));
          }
          await call(index);
        }
        await sleep(exponential(c.thinkMs) * scale);
      }
    };
    const window = (async () => {
      await sleep(countFrom - Date.now());
      const stats = await commandStats(redis);
      counters.exec = stats.get('exec')?.calls ?? 0;
      counters.evalsha = (stats.get('evalsha')?.calls ?? 0) + (stats.get('eval')?.calls ?? 0);
      nodes.forEach((node) => node.store.resetCacheStats());
      counting = true;
      await sleep(stopAt - Date.now());
      counting = false;
      const after = await commandStats(redis);
      const reads = nodes.reduce(
        (sum, node) => {
          const { hits, misses } = node.store.cacheStats();
          return { hits: sum.hits + hits, misses: sum.misses + misses };
        },
        { hits: 0, misses: 0 },
      );
      return {
        reads,
        exec: (after.get('exec')?.calls ?? 0) - counters.exec,
        evalsha:
          (after.get('evalsha')?.calls ?? 0) + (after.get('eval')?.calls ?? 0) - counters.evalsha,
      };
    })();
    const [measured] = await Promise.all([window, ...cookies.map((_, index) => user(index))]);
    const per = (n: number) => n / requests;
    return {
      requests,
      hitRate: measured.reads.hits / (measured.reads.hits + measured.reads.misses),
      perRequest: {
        reads: per(measured.exec),
        updates: per(saves),
        touches: per(Math.max(0, measured.evalsha - saves)),
      },
    };
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.dispose();
  }
}
