import { RedisServer } from '../test/support/redis-server';
import { distScript, SampleProcess } from '../test/support/sample-process';
import { load, loginMany, type LoadResult } from './support/load';
import { pin } from './support/pin';
import { clientCommands } from './support/redis-commands';

const SECRET = 'bench-secret-that-is-at-least-32-characters';
const SESSIONS = 1_000;
const ROUNDS = 3;
const SECONDS = 5;

export interface HttpRow {
  stack: string;
  requestsPerSecond: number;
  p99Ms: number;
  commandsPerRequest: number;
  failed: number;
}

interface Stack {
  stack: string;
  redis: RedisServer;
  app: SampleProcess;
  cookies: string[];
  runs: LoadResult[];
  commands: number;
}

/**
 * Issue 8's HTTP comparison: the same routes served by (a) the sample with this module, (b) a
 * NestJS app with express-session + connect-redis, (c) the same app without sessions. One app
 * process each, pinned to CPU 0; Redis and the load generator (autocannon, in this process) on
 * CPU 1. 1,000 logged-in users, 95 % GET /me and 5 % POST /visit, 20 connections; the stacks take
 * turns for ROUNDS rounds of SECONDS each, so drift hits them alike.
 */
export async function httpBench(): Promise<{ lines: string[]; rows: HttpRow[] }> {
  const pinned = pin(process.pid, 1);
  const stacks: Stack[] = [];
  try {
    for (const [stack, script, env] of [
      ['nestjs-cluster-session', undefined, { NODE_ID: 'bench' }],
      [
        'express-session + connect-redis',
        distScript('bench', 'peers', 'peer.main.js'),
        { STACK: 'express-session' },
      ],
      ['no sessions (ceiling)', distScript('bench', 'peers', 'peer.main.js'), { STACK: 'none' }],
    ] as const) {
      const redis = await RedisServer.start();
      pin(redis.pid, 1);
      const app = await SampleProcess.start(
        { REDIS_URL: redis.url, SESSION_SECRET: SECRET, ...env },
        script ? { ready: 'listening', script } : {},
      );
      pin(app.pid, 0);
      const cookies = stack.startsWith('no sessions')
        ? ['none=1']
        : await loginMany(app.url, SESSIONS);
      stacks.push({ stack, redis, app, cookies, runs: [], commands: 0 });
    }
    for (const stack of stacks) await load(stack.app.url, stack.cookies, 2); // warm-up (JIT, caches)
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? stacks : [...stacks].reverse();
      for (const stack of order) {
        const before = await clientCommands(stack.redis);
        stack.runs.push(await load(stack.app.url, stack.cookies, SECONDS));
        stack.commands += (await clientCommands(stack.redis)) - before;
      }
    }
  } finally {
    await Promise.all(stacks.map((stack) => stack.app.stop()));
    await Promise.all(stacks.map((stack) => stack.redis.dispose()));
    pin(process.pid, 'all'); // children inherit affinity: later benchmarks must not start on CPU 1 only
  }

  const rows: HttpRow[] = stacks.map(({ stack, runs, commands }) => {
    const requests = runs.reduce((sum, run) => sum + run.requests, 0);
    return {
      stack,
      requestsPerSecond: requests / (runs.length * SECONDS),
      p99Ms: median(runs.map((run) => run.p99Ms)),
      commandsPerRequest: commands / requests,
      failed: runs.reduce((sum, run) => sum + run.errors + run.non2xx, 0),
    };
  });
  const [ours, peer, ceiling] = rows;
  const lines = [
    `HTTP: ${SESSIONS.toLocaleString('en-US')} users, 95 % GET /me / 5 % POST /visit, 20 connections, ` +
      `${ROUNDS} interleaved rounds of ${SECONDS} s per stack${pinned ? ', app on CPU 0, Redis and load on CPU 1' : ' (not pinned)'}`,
    '',
    '| stack | requests/s | p99 latency | Redis commands/request | × express-session | × ceiling | failed |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.stack} | ${Math.round(row.requestsPerSecond).toLocaleString('en-US')} | ${row.p99Ms} ms | ` +
        `${row.commandsPerRequest.toFixed(3)} | ${(row.requestsPerSecond / peer.requestsPerSecond).toFixed(2)}× | ` +
        `${(row.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2)}× | ${row.failed} |`,
    ),
    '',
    `nestjs-cluster-session: ${(ours.requestsPerSecond / ceiling.requestsPerSecond).toFixed(2)}× the ceiling (target ≥ 0.9×), ` +
      `${(ours.requestsPerSecond / peer.requestsPerSecond).toFixed(2)}× express-session, ` +
      `${ours.commandsPerRequest.toFixed(3)} Redis commands/request (target ≤ 0.15)`,
  ];
  return { lines, rows };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
