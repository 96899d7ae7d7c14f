/** One thing to time; `run(i)` is called with a counter unique to this contender. */
export interface Contender {
  name: string;
  run: (i: number) => unknown;
}

export interface Timing {
  name: string;
  /** Median nanoseconds per operation over the rounds. */
  nsPerOp: number;
  opsPerSec: number;
}

/**
 * Times contenders in interleaved rounds (A B, B A, A B, …) so that drift on a shared, noisy
 * machine hits all of them alike; each round runs `batch` awaited operations per contender.
 */
export async function compare(
  contenders: Contender[],
  { rounds = 15, batch = 2_000, warmupRounds = 2 } = {},
): Promise<Timing[]> {
  const samples = contenders.map(() => [] as number[]);
  const counters = contenders.map(() => 0);
  for (let round = 0; round < warmupRounds + rounds; round++) {
    const order = contenders.map((_, index) => index);
    if (round % 2 === 1) {
      order.reverse();
    }
    for (const index of order) {
      const { run } = contenders[index];
      const start = process.hrtime.bigint();
      for (let n = 0; n < batch; n++) {
        await run(counters[index]++);
      }
      const ns = Number(process.hrtime.bigint() - start) / batch;
      if (round >= warmupRounds) {
        samples[index].push(ns);
      }
    }
  }
  return contenders.map(({ name }, index) => {
    const nsPerOp = median(samples[index]);
    return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp };
  });
}

/** Total operations `compare` runs per contender with the same settings. */
export function operationsPerContender({
  rounds = 15,
  batch = 2_000,
  warmupRounds = 2,
} = {}): number {
  return (rounds + warmupRounds) * batch;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function formatTimings(timings: Timing[]): string {
  return timings
    .map(
      (t) =>
        `  ${t.name.padEnd(44)} ${t.nsPerOp.toFixed(0).padStart(9)} ns/op ${Math.round(t.opsPerSec).toLocaleString('en-US').padStart(12)} ops/s`,
    )
    .join('\n');
}
