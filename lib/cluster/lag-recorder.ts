/** Invalidation lag in milliseconds: last, and p50/p99 over the most recent messages. */
export interface LagStats {
  last: number | null;
  p50: number | null;
  p99: number | null;
  samples: number;
}

/** A ring of the most recent lags; percentiles are computed on demand, off the message path. */
export class LagRecorder {
  private readonly ring: Float64Array;
  private count = 0;
  private lastLag: number | null = null;

  constructor(capacity = 4_096) {
    this.ring = new Float64Array(capacity);
  }

  record(lagMs: number): void {
    this.ring[this.count % this.ring.length] = lagMs;
    this.count++;
    this.lastLag = lagMs;
  }

  stats(): LagStats {
    const n = Math.min(this.count, this.ring.length);
    const sorted = this.ring.slice(0, n).sort();
    const at = (q: number) => (n === 0 ? null : sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]);
    return { last: this.lastLag, p50: at(0.5), p99: at(0.99), samples: this.count };
  }

  reset(): void {
    this.count = 0;
    this.lastLag = null;
  }
}
