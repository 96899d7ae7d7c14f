import { Logger } from '@nestjs/common';
import { realTraffic } from './traffic-real';
import { simulateTraffic, type TrafficCase, TYPICAL_TRAFFIC } from './traffic-model';

/**
 * `node dist/bench/traffic-real.main.js [--quick]` (about 4 minutes; `--quick` runs one case):
 * the traffic model checked against the module itself on a real Redis, time-scaled by 1/20
 * (7 minutes of traffic counted after 3 of warm-up run in 30 s), case by case, side by side.
 */
const SCALE = 1 / 20;
const BASE: TrafficCase = { ...TYPICAL_TRAFFIC, users: 500, localCacheMaxSize: 500 };
const CASES: Partial<TrafficCase>[] = [
  {},
  { routing: 'affinity' },
  { nodes: 16 },
  { nodes: 2, thinkMs: 60_000 },
  { propagation: 'invalidate', writeShare: 0.3 },
  { localCacheMaxSize: 50 },
];

async function main(): Promise<void> {
  Logger.overrideLogger(['error', 'warn']); // the runtimes' start-up lines would mix with the tables
  const quick = process.argv.includes('--quick');
  const started = Date.now();
  const lines = [
    `The traffic model against the module on a real Redis, time-scaled by 1/${1 / SCALE} (${BASE.users} users, ` +
      `${(BASE.durationMs - BASE.warmupMs) / 60_000} min counted after ${BASE.warmupMs / 60_000} of warm-up, in model time; bursts of ` +
      `${BASE.burst} calls within ${BASE.burstMs / 1_000} s; touchAfter ${BASE.touchAfter / 1_000} s)`,
    '',
    '| nodes | think | routing | propagation | writes | cache size | hit rate: model / real | reads/req: model / real | updates/req: model / real | touches/req: model / real | requests counted: model / real |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const overrides of quick ? CASES.slice(0, 1) : CASES) {
    const c = { ...BASE, ...overrides };
    const model = simulateTraffic(c);
    const real = await realTraffic(c, SCALE);
    const pair = (a: number, b: number, digits = 3) =>
      `${a.toFixed(digits)} / ${b.toFixed(digits)}`;
    lines.push(
      `| ${c.nodes} | ${c.thinkMs / 1_000} s | ${c.routing} | ${c.propagation} | ${c.writeShare * 100} % | ${c.localCacheMaxSize} | ` +
        `${(model.hitRate * 100).toFixed(1)} % / ${(real.hitRate * 100).toFixed(1)} % | ` +
        `${pair(model.perRequest.reads, real.perRequest.reads)} | ${pair(model.perRequest.updates, real.perRequest.updates)} | ` +
        `${pair(model.perRequest.touches, real.perRequest.touches)} | ${model.requests.toLocaleString('en-US')} / ${real.requests.toLocaleString('en-US')} |`,
    );
    console.error(lines[lines.length - 1]);
  }
  console.log(`${lines.join('\n')}\n\n(${((Date.now() - started) / 1_000).toFixed(0)} s)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
