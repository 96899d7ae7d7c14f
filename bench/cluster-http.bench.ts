import { RedisServer } from '../sample/support/redis-server';
import { SampleProcess } from '../sample/support/sample-process';
import { load, loginMany } from './support/load';
import { pin } from './support/pin';
import { clientCommands } from './support/redis-commands';

const SECRET = 'bench-secret-that-is-at-least-32-characters';

interface SessionHealth {
  cache: { hits: number; misses: number };
  invalidationLagMs?: { p50: number | null; p99: number | null };
}

/**
 * Issue 8's cluster figures: three sample processes on one Redis, 1,000 users, each request to a
 * random node (three load generators in parallel, one per node, all drawing from the same users),
 * 95 % GET /me / 5 % POST /visit: hit rate, Redis commands per request, propagation p50/p99.
 */
export async function clusterHttpBench(): Promise<string[]> {
  const redis = await RedisServer.start();
  pin(redis.pid, 1);
  pin(process.pid, 1);
  const nodes: SampleProcess[] = [];
  try {
    for (let i = 1; i <= 3; i++) {
      const node = await SampleProcess.start({
        REDIS_URL: redis.url,
        SESSION_SECRET: SECRET,
        NODE_ID: `c${i}`,
      });
      // three apps on two cores: pinning them all to one core measures scheduling delay, not propagation
      pin(node.pid, 'all');
      nodes.push(node);
    }
    const cookies = await loginMany(nodes[0].url, 1_000);
    // warm every node's cache with every session, so the run measures the steady state
    for (const node of nodes) {
      for (let i = 0; i < cookies.length; i += 20) {
        await Promise.all(
          cookies
            .slice(i, i + 20)
            .map((cookie) => fetch(`${node.url}/me`, { headers: { cookie } })),
        );
      }
    }
    const health = async () =>
      Promise.all(
        nodes.map(
          async (node) =>
            (
              (await (await fetch(`${node.url}/health`)).json()) as {
                details: { session: SessionHealth };
              }
            ).details.session,
        ),
      );
    const before = await health();
    const commandsBefore = await clientCommands(redis);
    // 4 connections per node: loaded, but not so saturated that queueing dominates the lag
    const runs = await Promise.all(nodes.map((node) => load(node.url, cookies, 6, 4)));
    const commands = (await clientCommands(redis)) - commandsBefore;
    const after = await health();
    const requests = runs.reduce((sum, run) => sum + run.requests, 0);
    const hits = after.reduce((sum, h, i) => sum + h.cache.hits - before[i].cache.hits, 0);
    const misses = after.reduce((sum, h, i) => sum + h.cache.misses - before[i].cache.misses, 0);
    const p50 = after.map((h) => h.invalidationLagMs?.p50 ?? 0).sort((a, b) => a - b)[1];
    const p99 = Math.max(...after.map((h) => h.invalidationLagMs?.p99 ?? 0));
    return [
      'Cluster: three sample processes (unpinned), 1,000 users, warm caches, each request to a random node ' +
        '(3 × 4 connections), 95 % GET /me / 5 % POST /visit',
      `  ${Math.round(requests / 6).toLocaleString('en-US')} requests/s in all; hit rate ${((100 * hits) / (hits + misses)).toFixed(1)} %; ` +
        `${(commands / requests).toFixed(3)} Redis commands/request (target ≤ 0.35); ` +
        `invalidation propagation p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (target < 5 ms)`,
    ];
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.dispose();
    pin(process.pid, 'all');
  }
}
