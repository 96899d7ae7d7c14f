import { RedisServer } from '../sample/support/redis-server';
import { percent, WRITE_SHARES } from './support/load';
import { pin } from './support/pin';
import { processCpuMicros } from './support/process-cpu';
import {
  clusterSessionStack,
  expressSessionStack,
  type SessionStack,
} from './support/session-stacks';

const NODES = 4;
const SESSIONS = 1_000;
const IN_FLIGHT = 64;
const ROUNDS = 3;
const SECONDS = 3;

/** One request of a stack: read a session and, for a write, save it changed. */
type Request = (write: boolean) => Promise<void>;

interface Totals {
  requests: number;
  redisCpuMicros: number;
  wallMicros: number;
  /** Reads served from a node's local cache (this module only). */
  hits: number;
}

interface Stack {
  name: string;
  redis: RedisServer;
  request: Request;
  /** Local-cache hits so far, over all nodes (0 for a stack without one). */
  hits: () => number;
  close: () => Promise<void>;
  measured: Map<number, Totals>;
}

export interface CapacityRow {
  stack: string;
  writeShare: number;
  requestsPerSecond: number;
  redisCpuMicrosPerRequest: number;
  /** Share of one core Redis used during the runs. */
  redisBusy: number;
  hitRate: number;
}

/**
 * Redis CPU per request when several nodes share one Redis and requests go to any node (no
 * session affinity): a write on one node then costs the others a re-read from Redis, which the
 * one-node HTTP comparison cannot show. NODES nodes of each stack live in this process (pinned
 * to CPU 0) with IN_FLIGHT requests in flight against one redis-server alone on CPU 1:
 * - this module: NODES runtimes (connections, local cache, Pub/Sub subscriber each), a request
 *   being `store.get` and, for a write, `store.save` of the session with one key changed;
 * - express-session + connect-redis on node-redis, NODES clients: `get`, then `set` for a write
 *   or `touch` otherwise, which is what express-session with `resave: false` calls per request.
 * No HTTP, no Nest: only what reaches Redis differs. Rounds interleave the stacks.
 */
export async function capacityBench(): Promise<{ lines: string[]; rows: CapacityRow[] }> {
  const pinned = pin(process.pid, 0);
  const stacks: Stack[] = [];
  try {
    stacks.push(await ours(), await expressSession());
    for (const share of WRITE_SHARES) {
      for (const stack of stacks) {
        await run(stack.request, 1, share); // warm-up
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const stack of round % 2 === 0 ? stacks : [...stacks].reverse()) {
          const cpuBefore = processCpuMicros(stack.redis.pid) ?? NaN;
          const hitsBefore = stack.hits();
          const started = process.hrtime.bigint();
          const requests = await run(stack.request, SECONDS, share);
          const sum = stack.measured.get(share);
          stack.measured.set(share, {
            requests: (sum?.requests ?? 0) + requests,
            redisCpuMicros:
              (sum?.redisCpuMicros ?? 0) + (processCpuMicros(stack.redis.pid) ?? NaN) - cpuBefore,
            wallMicros: (sum?.wallMicros ?? 0) + Number(process.hrtime.bigint() - started) / 1_000,
            hits: (sum?.hits ?? 0) + stack.hits() - hitsBefore,
          });
        }
      }
    }
  } finally {
    for (const stack of stacks) {
      await stack.close();
    }
    pin(process.pid, 'all');
  }

  const rows: CapacityRow[] = WRITE_SHARES.flatMap((writeShare) =>
    stacks.map(({ name, measured }) => {
      const { requests, redisCpuMicros, wallMicros, hits } = measured.get(writeShare)!;
      return {
        stack: name,
        writeShare,
        requestsPerSecond: requests / (wallMicros / 1e6),
        redisCpuMicrosPerRequest: redisCpuMicros / requests,
        redisBusy: redisCpuMicros / wallMicros,
        hitRate: hits / requests,
      };
    }),
  );
  const lines = [
    `Several nodes on one Redis: ${NODES} nodes per stack in one process${pinned ? ' on CPU 0' : ''}, each request ` +
      `to a random node, ${IN_FLIGHT} in flight, ${SESSIONS.toLocaleString('en-US')} sessions, one redis-server` +
      `${pinned ? ' alone on CPU 1' : ''}; ${ROUNDS} interleaved rounds of ${SECONDS} s per stack and mix`,
    '',
    '| writes | stack | requests/s | local-cache hits | Redis busy | Redis CPU µs/request | × express-session | one Redis core, requests/s |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const share of WRITE_SHARES) {
    const [mine, peer] = rows.filter((row) => row.writeShare === share);
    for (const row of [mine, peer]) {
      lines.push(
        `| ${percent(share)} | ${row.stack} | ${Math.round(row.requestsPerSecond).toLocaleString('en-US')} | ` +
          `${row === mine ? `${Math.round(row.hitRate * 100)} %` : '—'} | ${Math.round(row.redisBusy * 100)} % | ` +
          `${row.redisCpuMicrosPerRequest.toFixed(1)} | ` +
          `${(row.redisCpuMicrosPerRequest / peer.redisCpuMicrosPerRequest).toFixed(2)}× | ` +
          `${Math.round(1e6 / row.redisCpuMicrosPerRequest).toLocaleString('en-US')} |`,
      );
    }
  }
  return { lines, rows };
}

/** Issues requests, IN_FLIGHT at a time, for `seconds`; each a write with probability `share`. */
async function run(request: Request, seconds: number, share: number): Promise<number> {
  const until = Date.now() + seconds * 1_000;
  let done = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (Date.now() < until) {
        await request(Math.random() < share);
        done++;
      }
    }),
  );
  return done;
}

async function ours(): Promise<Stack> {
  const redis = await RedisServer.start();
  pin(redis.pid, 1);
  return withServer(redis, await clusterSessionStack(redis.url, NODES, SESSIONS));
}

async function expressSession(): Promise<Stack> {
  const redis = await RedisServer.start();
  pin(redis.pid, 1);
  return withServer(redis, await expressSessionStack(redis.url, NODES, SESSIONS));
}

/** A stack of bench/support/session-stacks on its own Redis, with this benchmark's totals. */
function withServer(redis: RedisServer, stack: SessionStack): Stack {
  return {
    name: stack.name,
    redis,
    measured: new Map(),
    hits: () => stack.reads()?.hits ?? 0,
    request: stack.request,
    close: async () => {
      await stack.close();
      await redis.dispose();
    },
  };
}
