import { RedisServer } from '../sample/support/redis-server';
import { distScript, SampleProcess } from '../sample/support/sample-process';
import { load, loginMany, percent, WRITE_SHARES, type LoadResult } from './support/load';
import { pin } from './support/pin';
import { processCpuMicros } from './support/process-cpu';
import { clientCommands } from './support/redis-commands';

const SECRET = 'bench-secret-that-is-at-least-32-characters';
const SESSIONS = 1_000;
const ROUNDS = 3;
const SECONDS = 4;

export interface HttpRow {
  stack: string;
  writeShare: number;
  requestsPerSecond: number;
  p99Ms: number;
  commandsPerRequest: number;
  /** redis-server's own CPU time per request served (all its threads), in µs. */
  redisCpuMicrosPerRequest: number;
  failed: number;
}

interface Measured {
  runs: LoadResult[];
  commands: number;
  redisCpuMicros: number;
}

interface Stack {
  stack: string;
  redis: RedisServer;
  app: SampleProcess;
  cookies: string[];
  byShare: Map<number, Measured>;
}

/**
 * The HTTP comparison: the same routes served by (a) the sample with this module, (b) a NestJS
 * app with express-session + connect-redis, (c) the same app without sessions. One app process
 * each, pinned to CPU 0; each stack's own redis-server and the load generator (autocannon, in
 * this process) on CPU 1. 1,000 logged-in users, 20 connections, at 5, 20, 50 and 100 % writes
 * (POST /visit; the rest GET /me); at each mix the stacks take turns for ROUNDS rounds of SECONDS
 * each, so drift hits them alike. Redis CPU is redis-server's own CPU time (schedstat) divided by
 * the requests served: the part of the work every node shares.
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
      stacks.push({ stack, redis, app, cookies, byShare: new Map() });
    }
    for (const share of WRITE_SHARES) {
      // warm-up at this mix (JIT, caches)
      for (const stack of stacks) {
        await load(stack.app.url, stack.cookies, 1, 20, undefined, share);
      }
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? stacks : [...stacks].reverse();
        for (const stack of order) {
          const measured = stack.byShare.get(share) ?? { runs: [], commands: 0, redisCpuMicros: 0 };
          stack.byShare.set(share, measured);
          const commandsBefore = await clientCommands(stack.redis);
          const cpuBefore = processCpuMicros(stack.redis.pid) ?? NaN;
          measured.runs.push(
            await load(stack.app.url, stack.cookies, SECONDS, 20, undefined, share),
          );
          measured.redisCpuMicros += (processCpuMicros(stack.redis.pid) ?? NaN) - cpuBefore;
          measured.commands += (await clientCommands(stack.redis)) - commandsBefore;
        }
      }
    }
  } finally {
    await Promise.all(stacks.map((stack) => stack.app.stop()));
    await Promise.all(stacks.map((stack) => stack.redis.dispose()));
    pin(process.pid, 'all'); // children inherit affinity: later benchmarks must not start on CPU 1 only
  }

  const rows: HttpRow[] = WRITE_SHARES.flatMap((writeShare) =>
    stacks.map(({ stack, byShare }) => {
      const { runs, commands, redisCpuMicros } = byShare.get(writeShare)!;
      const requests = runs.reduce((sum, run) => sum + run.requests, 0);
      return {
        stack,
        writeShare,
        requestsPerSecond: requests / (runs.length * SECONDS),
        p99Ms: median(runs.map((run) => run.p99Ms)),
        commandsPerRequest: commands / requests,
        redisCpuMicrosPerRequest: redisCpuMicros / requests,
        failed: runs.reduce((sum, run) => sum + run.errors + run.non2xx, 0),
      };
    }),
  );
  const at = (share: number) => rows.filter((row) => row.writeShare === share);
  const ratio = (value: number) => `${value.toFixed(2)}×`;
  const lines = [
    `HTTP: ${SESSIONS.toLocaleString('en-US')} users, 20 connections, writes (POST /visit) at ` +
      `${WRITE_SHARES.map(percent).join(' / ')} of requests, the rest GET /me; ${ROUNDS} interleaved rounds of ` +
      `${SECONDS} s per stack and mix${pinned ? ', app on CPU 0, Redis and load on CPU 1' : ' (not pinned)'}`,
    '',
    '| writes | stack | requests/s | × express-session | × ceiling | p99 latency | Redis commands/request | Redis CPU µs/request | Redis CPU × express-session | failed |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const share of WRITE_SHARES) {
    const [, peer, ceiling] = at(share);
    for (const row of at(share)) {
      lines.push(
        `| ${percent(share)} | ${row.stack} | ${Math.round(row.requestsPerSecond).toLocaleString('en-US')} | ` +
          `${ratio(row.requestsPerSecond / peer.requestsPerSecond)} | ${ratio(row.requestsPerSecond / ceiling.requestsPerSecond)} | ` +
          `${row.p99Ms} ms | ${row.commandsPerRequest.toFixed(3)} | ${row.redisCpuMicrosPerRequest.toFixed(1)} | ` +
          `${row.stack.startsWith('no sessions') ? '—' : ratio(row.redisCpuMicrosPerRequest / peer.redisCpuMicrosPerRequest)} | ${row.failed} |`,
      );
    }
  }
  const targets: [number, number][] = [
    [0.05, 0.25],
    [0.2, 0.5],
    [1, 1],
  ];
  lines.push(
    '',
    'Targets (#17), this run:',
    ...targets.map(([share, target]) => {
      const [ours, peer] = at(share);
      const value = ours.redisCpuMicrosPerRequest / peer.redisCpuMicrosPerRequest;
      return `- Redis CPU per request at ${percent(share)} writes: ${ratio(value)} express-session (target ≤ ${target}×): ${value <= target ? 'met' : 'not met'}`;
    }),
    ...[0.05, 0.2].map((share) => {
      const [ours, peer, ceiling] = at(share);
      const value = ours.requestsPerSecond / ceiling.requestsPerSecond;
      return (
        `- HTTP at ${percent(share)} writes: ${ratio(value)} the ceiling (target ≥ 0.9×): ${value >= 0.9 ? 'met' : 'not met'}; ` +
        `p99 ${ours.p99Ms} ms against express-session's ${peer.p99Ms} ms: ${ours.p99Ms <= peer.p99Ms ? 'no worse' : 'worse'}`
      );
    }),
    '',
    'Capacity of one Redis core (1 s of Redis CPU / Redis CPU per request), from the figures above:',
    '',
    '| writes | this module, requests/s | express-session + connect-redis, requests/s | ratio |',
    '|---|---|---|---|',
    ...WRITE_SHARES.map((share) => {
      const [ours, peer] = at(share);
      const capacity = (row: HttpRow) => 1e6 / row.redisCpuMicrosPerRequest;
      return (
        `| ${percent(share)} | ${Math.round(capacity(ours)).toLocaleString('en-US')} | ` +
        `${Math.round(capacity(peer)).toLocaleString('en-US')} | ${ratio(capacity(ours) / capacity(peer))} |`
      );
    }),
  );
  return { lines, rows: at(0.05) };
}
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
