import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { ClusterSessionRuntime } from '../../lib/cluster-session.runtime';
import { resolveOptions } from '../../lib/options/resolve-options';
import { TEST_SECRET } from '../../test/support/cluster-fixture';
import { sessionPayload } from './session-payload';

/** Several nodes of one session stack, as the several-nodes benchmarks drive them. */
export interface SessionStack {
  name: string;
  /** One request on a random node: read a session and, for a write, save it changed. */
  request: (write: boolean) => Promise<void>;
  /** Reads served from the nodes' local caches and read from Redis, summed; null without a cache. */
  reads: () => { hits: number; misses: number } | null;
  resetReads: () => void;
  close: () => Promise<void>;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

/**
 * This module: `nodes` runtimes on `url` (connections, local cache, Pub/Sub subscriber each),
 * `sessions` sessions created and every node's cache warmed; a request is `store.get` and, for
 * a write, `store.save` with `visits` incremented.
 */
export async function clusterSessionStack(
  url: string,
  nodes: number,
  sessions: number,
): Promise<SessionStack> {
  const runtimes = Array.from(
    { length: nodes },
    (_, i) =>
      new ClusterSessionRuntime(
        resolveOptions({ secret: TEST_SECRET, redis: url, cluster: { nodeId: `sat${i}` } }),
      ),
  );
  await Promise.all(runtimes.map((node) => node.start()));
  const ids = await Promise.all(
    Array.from(
      { length: sessions },
      async (_, i) => (await runtimes[0].store.create(sessionPayload(i))).id,
    ),
  );
  for (const node of runtimes) {
    for (const id of ids) {
      await node.store.get(id);
    }
  }
  return {
    name: 'nestjs-cluster-session',
    request: async (write) => {
      const node = pick(runtimes);
      const session = await node.store.get(pick(ids));
      if (!session) {
        throw new Error('saturation bench: a session vanished');
      }
      if (write) {
        session.data.visits = Number(session.data.visits) + 1;
        await node.store.save(session);
      }
    },
    reads: () =>
      runtimes.reduce(
        (sum, node) => {
          const { hits, misses } = node.store.cacheStats();
          return { hits: sum.hits + hits, misses: sum.misses + misses };
        },
        { hits: 0, misses: 0 },
      ),
    resetReads: () => runtimes.forEach((node) => node.store.resetCacheStats()),
    close: async () => {
      await Promise.all(runtimes.map((node) => node.stop()));
    },
  };
}

/**
 * express-session + connect-redis on node-redis, `nodes` clients: `get`, then `set` for a write
 * or `touch` otherwise, which is what express-session with `resave: false` calls per request.
 */
export async function expressSessionStack(
  url: string,
  nodes: number,
  sessions: number,
): Promise<SessionStack> {
  const clients = Array.from({ length: nodes }, () => createClient({ url }));
  await Promise.all(clients.map((client) => client.connect()));
  const stores = clients.map((client) => new RedisStore({ client }));
  const cookie = { originalMaxAge: 3_600_000, httpOnly: true, path: '/' };
  const sids = Array.from({ length: sessions }, (_, i) => `sid-${i}-${'x'.repeat(24)}`);
  await Promise.all(
    sids.map((sid, i) =>
      stores[0].set(sid, {
        cookie: { ...cookie, expires: new Date(Date.now() + 3_600_000) },
        ...sessionPayload(i),
      } as never),
    ),
  );
  return {
    name: 'express-session + connect-redis',
    request: async (write) => {
      const store = pick(stores);
      const sid = pick(sids);
      const session = (await store.get(sid)) as { visits: number } | null;
      if (!session) {
        throw new Error('saturation bench: a session vanished');
      }
      if (write) {
        session.visits++;
        await store.set(sid, session as never);
      } else {
        await store.touch(sid, session as never);
      }
    },
    reads: () => null,
    resetReads: () => undefined,
    close: async () => {
      await Promise.all(clients.map((client) => client.quit()));
    },
  };
}
