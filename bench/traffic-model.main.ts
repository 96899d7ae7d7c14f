import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandCosts } from './command-costs.bench';
import { lineChart, type Series } from './support/line-chart';
import {
  simulateTraffic,
  type TrafficCase,
  type TrafficResult,
  TYPICAL_TRAFFIC,
} from './traffic-model';

/**
 * `node dist/bench/traffic-model.main.js [--quick]`: the virtual-time traffic model (#28, part
 * 1) over think times, node counts, routing, cache lifetime and size. Prints markdown tables and
 * writes its charts to bench/results/traffic-*.svg.
 *
 * Redis capacity per request comes from each command kind's cost on a saturated Redis core,
 * which `node dist/bench/command-costs.main.js` measures into bench/results/command-costs.json:
 * this module's reads, updates (with one subscriber per node) and touches by the model's counts,
 * against express-session + connect-redis's GET, then SET for a write or the touch (EXPIRE)
 * otherwise, every request whatever the traffic.
 *
 * Each user's traffic is independent of the others', so the hit rate depends on the population
 * only through the cache size relative to it: the grid runs 10,000 users with the cache holding
 * all of them, or 10 % of them (the default 10,000 entries against 100,000 sessions); messages
 * per node per second grow with the population (here per 10,000 users).
 */
const RESULTS = join(__dirname, '..', '..', 'bench', 'results');
const COSTS: CommandCosts | null = existsSync(join(RESULTS, 'command-costs.json'))
  ? (JSON.parse(readFileSync(join(RESULTS, 'command-costs.json'), 'utf8')) as CommandCosts)
  : null;
const REGIMES = COSTS ? Object.keys(COSTS.regimes) : [];
/** Heap per cached session, from the memory benchmark (about 2.0 KB for 890 B of JSON). */
const HEAP_PER_ENTRY = 2_000;

/**
 * An update's cost with `subscribers` receiving it: the least-squares line through the measured
 * fan-outs (each delivery adds about the same; single figures are noisy on a shared machine).
 */
export function updateCost(costs: Record<string, number>, subscribers: number): number {
  const points = Object.keys(costs)
    .filter((kind) => kind.startsWith('update@'))
    .map((kind) => [Number(kind.slice('update@'.length)), costs[kind]] as const);
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const mx = mean(points.map(([n]) => n));
  const my = mean(points.map(([, c]) => c));
  const slope =
    points.reduce((sum, [n, c]) => sum + (n - mx) * (c - my), 0) /
    points.reduce((sum, [n]) => sum + (n - mx) ** 2, 0);
  return my + slope * (subscribers - mx);
}

/** Redis capacity per request against express-session's in one regime (>1: this module carries more). */
export function capacityRatio(c: TrafficCase, r: TrafficResult, regime: string): number {
  const costs = COSTS!.regimes[regime];
  const ours =
    r.perRequest.reads * costs.read +
    r.perRequest.updates * updateCost(costs, c.nodes) +
    r.perRequest.touches * costs.touch;
  const express = costs.get + c.writeShare * costs.set + (1 - c.writeShare) * costs.expire;
  return express / ours;
}

const DEFAULTS: TrafficCase = { ...TYPICAL_TRAFFIC, users: 10_000, localCacheMaxSize: 1_000 };

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
    `${((r.entriesPerNode * HEAP_PER_ENTRY) / 1e6).toFixed(1)} MB`,
    ...REGIMES.map((regime) => `${capacityRatio(c, r, regime).toFixed(2)}×`),
  ];
  return `| ${cells.join(' | ')} |`;
}

const HEADER = [
  `| users | nodes | think | routing | propagation | cache TTL | cache size | hit rate | reads/req | updates/req | touches/req | Redis round trips/req | messages/node/s | cache heap/node |${REGIMES.map((regime) => ` Redis capacity × express-session, ${regime} |`).join('')}`,
  `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|${REGIMES.map(() => '---|').join('')}`,
];

function table(title: string, cases: Partial<TrafficCase>[], writes = false): string[] {
  const header = writes
    ? HEADER.map((line, i) => (i === 0 ? `${line} writes |` : `${line}---|`))
    : HEADER;
  const lines = [`### ${title}`, '', ...header];
  for (const overrides of cases) {
    const c = { ...DEFAULTS, ...overrides };
    lines.push(row(c, simulateTraffic(c)) + (writes ? ` ${c.writeShare * 100} % |` : ''));
  }
  return [...lines, ''];
}

/** Think times the charts run, seconds. */
const CHART_THINKS = [1, 2, 5, 10, 20, 30, 60, 120];
const NODE_COLORS: Record<number, string> = { 2: '#2f6fde', 4: '#d9822b', 16: '#27ae60' };
const VARIANTS = [
  { label: 'random', routing: 'random', localCacheTtl: 30_000 },
  { label: 'random, 5 min', routing: 'random', localCacheTtl: 300_000, dash: 'dashed' },
  { label: 'affinity', routing: 'affinity', localCacheTtl: 30_000, dash: 'dotted' },
] as const;

/**
 * The charts: hit rate and capacity against express-session over think time, per node count
 * and routing (2,000 users, cache for all of them); and the think time past which this module
 * carries less than express-session, per line.
 */
function charts(): string[] {
  const lines = new Map<
    string,
    { series: Omit<Series, 'values'>; results: [TrafficCase, TrafficResult][] }
  >();
  for (const nodes of [2, 4, 16]) {
    for (const variant of VARIANTS) {
      const results = CHART_THINKS.map((think): [TrafficCase, TrafficResult] => {
        const c: TrafficCase = {
          ...DEFAULTS,
          users: 2_000,
          localCacheMaxSize: 2_000,
          nodes,
          thinkMs: think * 1_000,
          routing: variant.routing,
          localCacheTtl: variant.localCacheTtl,
        };
        return [c, simulateTraffic(c)];
      });
      const dash = 'dash' in variant ? variant.dash : undefined;
      lines.set(`${nodes} nodes, ${variant.label}`, {
        series: { name: `${nodes} nodes, ${variant.label}`, color: NODE_COLORS[nodes], dash },
        results,
      });
    }
  }
  const xLabels = CHART_THINKS.map((think) => `${think} s`);
  const files = ['traffic-hit-rate.svg'];
  writeFileSync(
    join(RESULTS, files[0]),
    `${lineChart({
      title: 'Local-cache hit rate by think time (cache for every session, 10 % writes)',
      xLabels,
      xTitle: 'mean think time between page views (bursts of 4 calls)',
      yTitle: 'hit rate',
      yMax: 1,
      yFormat: (v) => `${Math.round(v * 100)} %`,
      series: [...lines.values()].map(({ series, results }) => ({
        ...series,
        values: results.map(([, r]) => r.hitRate),
      })),
    })}\n`,
  );
  const out = ['### Where the module stops paying off', ''];
  if (COSTS) {
    out.push(
      `Think time past which one Redis core carries fewer requests with this module than with express-session (2,000 users, cache for all; interpolated between ${CHART_THINKS.map((t) => `${t}`).join(', ')} s; "never" within 120 s):`,
      '',
      `| line |${REGIMES.map((regime) => ` ${regime} |`).join('')}`,
      `|---|${REGIMES.map(() => '---|').join('')}`,
    );
    for (const regime of REGIMES) {
      const file = `traffic-capacity-${regime.replace(/\D+/g, 'x')}.svg`;
      files.push(file);
      const ratios = [...lines.values()].map(({ results }) =>
        results.map(([c, r]) => capacityRatio(c, r, regime)),
      );
      writeFileSync(
        join(RESULTS, file),
        `${lineChart({
          title: `Redis capacity × express-session by think time, ${regime} (10 % writes)`,
          xLabels,
          xTitle: 'mean think time between page views (bursts of 4 calls)',
          yTitle: 'requests per saturated Redis core, × express-session',
          yMax: Math.ceil(Math.max(...ratios.flat().filter((v) => v < 50), 1.5)),
          yFormat: (v) => `${v.toFixed(2)}×`,
          rule: { at: 1, label: 'express-session + connect-redis' },
          series: [...lines.values()].map(({ series }, n) => ({ ...series, values: ratios[n] })),
        })}\n`,
      );
    }
    files.push('traffic-capacity-writes.svg');
    const shares = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3];
    const byShare = (['random', 'affinity'] as const).map((routing) =>
      shares.map((writeShare): [TrafficCase, TrafficResult] => {
        const c: TrafficCase = {
          ...DEFAULTS,
          users: 2_000,
          localCacheMaxSize: 2_000,
          writeShare,
          routing,
        };
        return [c, simulateTraffic(c)];
      }),
    );
    writeFileSync(
      join(RESULTS, 'traffic-capacity-writes.svg'),
      `${lineChart({
        title: 'Redis capacity × express-session by write share (4 nodes, 10 s think time)',
        xLabels: shares.map((share) => `${share * 100} %`),
        xTitle: 'share of requests that write the session',
        yTitle: 'requests per saturated Redis core, × express-session',
        yMax: 3,
        yFormat: (v) => `${v.toFixed(2)}×`,
        rule: { at: 1, label: 'express-session + connect-redis' },
        series: REGIMES.flatMap((regime, r) =>
          (['random', 'affinity'] as const).map((routing, i) => ({
            name: `${routing}, ${regime}`,
            color: ['#2f6fde', '#d9822b'][i],
            dash: r === 0 ? undefined : ('dashed' as const),
            values: byShare[i].map(([c, result]) => capacityRatio(c, result, regime)),
          })),
        ),
      })}\n`,
    );
    for (const [name, { results }] of lines) {
      const cells = REGIMES.map((regime) => {
        const ratios = results.map(([c, r]) => capacityRatio(c, r, regime));
        const below = ratios.findIndex((ratio) => ratio < 1);
        if (below < 0) {
          return 'never';
        }
        if (below === 0) {
          return `already at ${CHART_THINKS[0]} s (${ratios[0].toFixed(2)}×)`;
        }
        const [t0, t1] = [CHART_THINKS[below - 1], CHART_THINKS[below]];
        const [r0, r1] = [ratios[below - 1], ratios[below]];
        return `${(t0 + ((t1 - t0) * (r0 - 1)) / (r0 - r1)).toFixed(0)} s`;
      });
      out.push(`| ${name} |${cells.map((cell) => ` ${cell} |`).join('')}`);
    }
    out.push('');
  }
  out.push(`Charts written: ${files.map((file) => join(RESULTS, file)).join(', ')}`, '');
  return out;
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
    `Traffic model (virtual time, ${(DEFAULTS.durationMs - DEFAULTS.warmupMs) / 60_000} min counted after ${DEFAULTS.warmupMs / 60_000} min of warm-up; ` +
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
      ...table(
        'The write share decides (4 nodes, 10 s think time, cache for all)',
        [0.01, 0.02, 0.05, 0.1, 0.2].flatMap((writeShare) =>
          (['random', 'affinity'] as const).map((routing) => ({
            writeShare,
            routing,
            localCacheMaxSize: 10_000,
          })),
        ),
        true,
      ),
      ...table("'invalidate' against 'update' (4 nodes, random, cache for all, 30 % writes)", [
        { propagation: 'update', localCacheMaxSize: 10_000, writeShare: 0.3 },
        { propagation: 'invalidate', localCacheMaxSize: 10_000, writeShare: 0.3 },
      ]),
    );
  }
  if (!quick) {
    lines.push(...charts());
  }
  if (COSTS) {
    lines.push(`Command costs from bench/results/command-costs.json, measured ${COSTS.date}.`);
  } else {
    lines.push(
      'No bench/results/command-costs.json: run dist/bench/command-costs.main.js for capacity.',
    );
  }
  console.log(`${lines.join('\n')}\n(${((Date.now() - started) / 1_000).toFixed(0)} s)`);
}

main();
