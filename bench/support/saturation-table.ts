import { percent } from './load';

const pct = (share: number) => `${Math.round(share * 100)} %`;
const count = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * The saturation figures as a markdown table (by mix, driver regime, this module first), then
 * what kept Redis below `minBusy` where it was, error replies, and the Pub/Sub check.
 */
export function saturationTable(measured: SaturationRow[], minBusy: number): string[] {
  const regimeOrder = (row: SaturationRow) => measured.findIndex((r) => r.regime === row.regime);
  const rows = [...measured].sort(
    (a, b) =>
      a.writeShare - b.writeShare ||
      regimeOrder(a) - regimeOrder(b) ||
      Number(a.hitRate === null) - Number(b.hitRate === null),
  );
  const lines = [
    '| writes | driver | stack | commands/request | local-cache hits | Redis busy | requests/s per Redis core | × express-session | Redis µs/call | error replies |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${percent(row.writeShare)} | ${row.regime} | ${row.stack} | ${row.commandsPerRequest.toFixed(3)} | ` +
        `${row.hitRate === null ? '—' : pct(row.hitRate)} | ${pct(row.redisBusy)} | ` +
        `${count(row.requestsPerCoreSecond)} | ${row.ratio.toFixed(2)}× | ` +
        `${row.usecPerCall.map(([name, usec]) => `${name} ${usec.toFixed(2)}`).join(', ')} | ${row.errors} |`,
    );
  }
  lines.push('');
  for (const row of rows.filter(({ redisBusy }) => redisBusy < minBusy)) {
    lines.push(
      `Not saturated (${percent(row.writeShare)} writes, ${row.regime}, ${row.stack}): Redis busy ` +
        `${(row.redisBusy * 100).toFixed(1)} %; ${limits(row).join('; ')}. The figure is then a lower bound.`,
    );
  }
  const retried = rows.filter(({ attempts }) => attempts > 1);
  if (retried.length > 0) {
    lines.push(
      'Replayed again while other work kept Redis under ' +
        `${pct(minBusy)} busy (busiest attempt kept): ` +
        retried
          .map((row) => `${percent(row.writeShare)} ${row.regime} ${row.stack} ×${row.attempts}`)
          .join(', '),
    );
  }
  for (const row of rows.filter(({ errors }) => errors > 0)) {
    lines.push(
      `Error replies (${percent(row.writeShare)}, ${row.regime}, ${row.stack}): ${row.firstError}`,
    );
  }
  const ours = rows.filter(({ hitRate }) => hitRate !== null);
  lines.push(
    'Pub/Sub messages delivered per replayed request (this module; expected: write share × nodes): ' +
      ours
        .map(
          (row) =>
            `${percent(row.writeShare)} ${row.regime}: ${row.deliveriesPerRequest.toFixed(2)}`,
        )
        .join(', '),
  );
  return lines;
}

/** What kept Redis from saturating, as far as the scheduler's counters tell. */
function limits(row: SaturationRow): string[] {
  const found = [];
  if (row.redisWaiting >= 0.05) {
    found.push(`Redis waited ${pct(row.redisWaiting)} of the time for its CPU (other work there)`);
  }
  if (row.driverBusy >= 0.9) {
    found.push(`the driver used ${pct(row.driverBusy)} of its CPU`);
  }
  if (row.driverWaiting >= 0.05) {
    found.push(
      `the driver waited ${pct(row.driverWaiting)} of the time for its CPU (other work there)`,
    );
  }
  return found.length > 0
    ? found
    : [`Redis waited for commands, driver busy ${pct(row.driverBusy)} (loopback round trips)`];
}

/** One stack, mix and regime of the capacity-at-saturation benchmark. */
export interface SaturationRow {
  stack: string;
  writeShare: number;
  regime: string;
  /** Application requests one saturated Redis core serves per second. */
  requestsPerCoreSecond: number;
  /** Shares of the window Redis, and the driver, spent on a CPU, and runnable waiting for one. */
  redisBusy: number;
  redisWaiting: number;
  driverBusy: number;
  driverWaiting: number;
  commandsPerRequest: number;
  hitRate: number | null;
  /** Requests/s per core over express-session's in the same mix and regime. */
  ratio: number;
  /** Pub/Sub messages the replay's subscribers received per replayed request. */
  deliveriesPerRequest: number;
  /** Redis µs per call of the main client commands (INFO commandstats). */
  usecPerCall: [string, number][];
  errors: number;
  firstError: string;
  /** Replays run to get Redis busy enough (the busiest kept). */
  attempts: number;
}
