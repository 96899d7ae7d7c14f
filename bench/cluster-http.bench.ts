import { RedisServer } from '../sample/support/redis-server';
import { SampleProcess } from '../sample/support/sample-process';
import { load, loginMany, percent } from './support/load';
import { pin } from './support/pin';
import { clientCommands } from './support/redis-commands';

const SECRET = 'bench-secret-that-is-at-least-32-characters';

interface SessionHealth {
  cache: { hits: number; misses: number };
  invalidationLagMs?: { p50: number | null; p99: number | null };
}

/** One run: requests, hit rate, Redis commands per request, propagation lag. */
interface ClusterRun {
  propagation: Propagation;
  writeShare: number;
  requestsPerSecond: number;
  hitRate: number;
  commandsPerRequest: number;
  p50: number;
  p99: number;
}

type Propagation = 'update' | 'invalidate';

const SECONDS = 6;

/**
 * Issue 8's cluster figures, and #23's: three sample processes on one Redis, 1,000 users, each
 * request to a random node (three load generators in parallel, one per node, all drawing from the
 * same users), at 5 and 20 % POST /visit (else GET /me), with `cluster.propagation` 'invalidate'
 * (every write drops the other nodes' copies: before #23) and 'update' (a write's change travels):
 * hit rate, Redis commands per request, propagation p50/p99.
 */
export async function clusterHttpBench(): Promise<string[]> {
  const runs: ClusterRun[] = [];
  for (const writeShare of [0.05, 0.2]) {
    for (const propagation of ['invalidate', 'update'] as const) {
      runs.push(await clusterRun(propagation, writeShare));
    }
  }
  return [
    'Cluster: three sample processes (unpinned), 1,000 users, warm caches, each request to a random node ' +
      `(3 × 4 connections, ${SECONDS} s), POST /visit for the write share, else GET /me`,
    '',
    '| writes | cluster.propagation | requests/s | hit rate | Redis commands/request | propagation p50 | p99 |',
    '|---|---|---|---|---|---|---|',
    ...runs.map(
      (run) =>
        `| ${percent(run.writeShare)} | ${run.propagation} | ${Math.round(run.requestsPerSecond).toLocaleString('en-US')} | ` +
        `${(100 * run.hitRate).toFixed(1)} % | ${run.commandsPerRequest.toFixed(3)} | ` +
        `${run.p50.toFixed(2)} ms | ${run.p99.toFixed(2)} ms |`,
    ),
  ];
}

async function clusterRun(propagation: Propagation, writeShare: number): Promise<ClusterRun> {
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
        SESSION_PROPAGATION: propagation,
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
    const loads = await Promise.all(
      nodes.map((node) => load(node.url, cookies, SECONDS, 4, undefined, writeShare)),
    );
    const commands = (await clientCommands(redis)) - commandsBefore;
    const after = await health();
    const requests = loads.reduce((sum, run) => sum + run.requests, 0);
    const hits = after.reduce((sum, h, i) => sum + h.cache.hits - before[i].cache.hits, 0);
    const misses = after.reduce((sum, h, i) => sum + h.cache.misses - before[i].cache.misses, 0);
    return {
      propagation,
      writeShare,
      requestsPerSecond: requests / SECONDS,
      hitRate: hits / (hits + misses),
      commandsPerRequest: commands / requests,
      p50: after.map((h) => h.invalidationLagMs?.p50 ?? 0).sort((a, b) => a - b)[1],
      p99: Math.max(...after.map((h) => h.invalidationLagMs?.p99 ?? 0)),
    };
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.dispose();
    pin(process.pid, 'all');
  }
}
