import { simulateTraffic, type TrafficCase, type TrafficResult } from './traffic-model';

/**
 * `node dist/bench/traffic-model.main.js [--quick]`: the virtual-time traffic model (#28, part
 * 1) over think times, node counts, routing, cache lifetime and size. Prints markdown tables.
 * express-session + connect-redis costs 2 commands per request whatever the traffic (GET, then
 * SET or the touch), which the last column compares against.
 *
 * Each user's traffic is independent of the others', so the hit rate depends on the population
 * only through the cache size relative to it: the grid runs 10,000 users with the cache holding
 * all of them, or 10 % of them (the default 10,000 entries against 100,000 sessions); messages
 * per node per second grow with the population (here per 10,000 users).
 */
const DEFAULTS: TrafficCase = {
  users: 10_000,
  nodes: 4,
  thinkMs: 10_000,
  burst: 4,
  burstMs: 1_000,
  writeShare: 0.1,
  routing: 'random',
  propagation: 'update',
  localCacheTtl: 30_000,
  localCacheMaxSize: 1_000,
  touchAfter: 60_000,
  durationMs: 600_000,
  warmupMs: 180_000,
};

function row(c: TrafficCase, r: TrafficResult): string {
  const cells = [
    c.users.toLocaleString('en-US'),
    String(c.nodes),
    `${c.thinkMs / 1_000} s`,
    c.routing,
    c.propagation,
    `${c.localCacheTtl / 1_000} s`,
    c.localCacheMaxSize.toLocaleString('en-US'),
    `${(r.hitRate * 100).toFixed(1)} %`,
    r.perRequest.reads.toFixed(3),
    r.perRequest.updates.toFixed(3),
    r.perRequest.touches.toFixed(3),
    r.perRequest.total.toFixed(3),
    Math.round(r.messagesPerNodePerSecond).toLocaleString('en-US'),
    Math.round(r.entriesPerNode).toLocaleString('en-US'),
    `${(2 / r.perRequest.total).toFixed(2)}×`,
  ];
  return `| ${cells.join(' | ')} |`;
}

const HEADER = [
  '| users | nodes | think | routing | propagation | cache TTL | cache size | hit rate | reads/req | updates/req | touches/req | Redis commands/req | messages/node/s | entries/node | express-session commands ÷ ours |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
];

function table(title: string, cases: Partial<TrafficCase>[]): string[] {
  const lines = [`### ${title}`, '', ...HEADER];
  for (const overrides of cases) {
    const c = { ...DEFAULTS, ...overrides };
    lines.push(row(c, simulateTraffic(c)));
  }
  return [...lines, ''];
}

function main(): void {
  const quick = process.argv.includes('--quick');
  const started = Date.now();
  const thinks = quick ? [10_000] : [2_000, 10_000, 60_000];
  const nodeCounts = quick ? [4] : [2, 4, 16];
  const grid = (extra: Partial<TrafficCase>) =>
    thinks.flatMap((thinkMs) =>
      nodeCounts.flatMap((nodes) =>
        (['random', 'affinity'] as const).map((routing) => ({ thinkMs, nodes, routing, ...extra })),
      ),
    );
  const lines = [
    `Traffic model (virtual time, ${DEFAULTS.durationMs / 60_000} min after ${DEFAULTS.warmupMs / 60_000} min of warm-up; ` +
      `bursts of ${DEFAULTS.burst} calls within ${DEFAULTS.burstMs / 1_000} s per page view, ${DEFAULTS.writeShare * 100} % writes, ` +
      `touchAfter ${DEFAULTS.touchAfter / 1_000} s)`,
    '',
    ...table('Cache lifetime 30 s (the default), cache for 10 % of the sessions', grid({})),
    ...table('Cache lifetime 30 s, cache for every session', grid({ localCacheMaxSize: 10_000 })),
    ...table(
      'Cache lifetime 5 min, cache for every session',
      grid({ localCacheTtl: 300_000, localCacheMaxSize: 10_000 }),
    ),
  ];
  if (!quick) {
    lines.push(
      ...table('The population does not change the hit rate (4 nodes, random, cache for all)', [
        { users: 10_000, localCacheMaxSize: 10_000 },
        { users: 100_000, localCacheMaxSize: 100_000, durationMs: 360_000, warmupMs: 120_000 },
      ]),
      ...table("'invalidate' against 'update' (4 nodes, random, cache for all, 30 % writes)", [
        { propagation: 'update', localCacheMaxSize: 10_000, writeShare: 0.3 },
        { propagation: 'invalidate', localCacheMaxSize: 10_000, writeShare: 0.3 },
      ]),
    );
  }
  console.log(`${lines.join('\n')}\n(${((Date.now() - started) / 1_000).toFixed(0)} s)`);
}

main();
