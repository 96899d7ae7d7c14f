import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClusterSessionRuntime } from '../cluster-session.runtime';

type PromClient = typeof import('prom-client');

export interface MetricsOptions {
  /** Where to register; default prom-client's global registry. */
  registry?: Registry;
  /** Prefix of every metric name. Default `'cluster_session_'`. */
  prefix?: string;
}

/** prom-client, when the application has it installed (an optional peer dependency). */
function loadPromClient(): PromClient | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('prom-client') as PromClient;
  } catch {
    return null;
  }
}

/**
 * Prometheus metrics of one node, read from the runtime's own statistics when scraped (nothing is
 * counted twice on the request path): cache hits, misses, evictions and size; Pub/Sub messages
 * sent, received and ignored; cache flushes; stale reads served; Redis errors; and a histogram of
 * invalidation propagation lag, observed as messages arrive.
 */
export class ClusterSessionMetrics {
  private readonly added: { name: string; metric: unknown }[] = [];
  private readonly stopLag?: () => void;

  private constructor(
    prom: PromClient,
    runtime: ClusterSessionRuntime,
    private readonly registry: Registry,
    prefix: string,
  ) {
    const { store, coordinator } = runtime;
    const counter = (name: string, help: string, read: () => number) =>
      this.add(name, (n) => {
        const metric: Counter = new prom.Counter({
          name: n,
          help,
          registers: [registry],
          collect() {
            metric.reset();
            metric.inc(Math.max(0, read()));
          },
        });
      });
    const gauge = (name: string, help: string, read: () => number) =>
      this.add(name, (n) => {
        const metric: Gauge = new prom.Gauge({
          name: n,
          help,
          registers: [registry],
          collect() {
            metric.set(read());
          },
        });
      });
    const p = prefix;
    const counters: [name: string, help: string, read: () => number][] = [
      [
        'cache_hits_total',
        'Session reads served from the local cache',
        () => store.cacheStats().hits,
      ],
      ['cache_misses_total', 'Session reads that went to Redis', () => store.cacheStats().misses],
      [
        'cache_evictions_total',
        'Local cache entries evicted (LRU)',
        () => store.cacheStats().evictions,
      ],
      [
        'stale_reads_total',
        'Reads answered from the cache while Redis was unreachable (serveStaleOnError)',
        () => store.staleReadsServed,
      ],
      ['redis_errors_total', 'Redis calls that failed', () => store.redisErrors],
    ];
    if (coordinator.enabled) {
      counters.push(
        ['messages_sent_total', 'Invalidation messages published', () => coordinator.stats().sent],
        [
          'messages_received_total',
          'Invalidation messages received',
          () => coordinator.stats().received,
        ],
        [
          'messages_ignored_total',
          'Messages ignored: forged, foreign or malformed',
          () => coordinator.stats().ignored,
        ],
        [
          'messages_unverified_total',
          'Messages of this app signed with a secret this node does not have (the cache is not served while they come)',
          () => coordinator.stats().unverified,
        ],
        [
          'flushes_total',
          'Times the whole local cache was dropped',
          () => coordinator.stats().flushes,
        ],
        [
          'updates_applied_total',
          "Other nodes' saves applied to a cached copy (cluster.propagation 'update')",
          () => store.updatesAppliedCount,
        ],
      );
    }
    for (const [name, help, read] of counters) {
      counter(`${p}${name}`, help, read);
    }
    gauge(`${p}cache_size`, 'Sessions in the local cache', () => store.cacheStats().size);
    if (coordinator.enabled) {
      let lag: Histogram | undefined;
      this.add(`${p}invalidation_lag_seconds`, (n) => {
        lag = new prom.Histogram({
          name: n,
          help: 'Invalidation propagation: from the Redis timestamp in a message to its arrival here',
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
          registers: [registry],
        });
      });
      this.stopLag = coordinator.onLag((ms) => lag?.observe(Math.max(0, ms) / 1_000));
    }
  }

  /** Metrics for `runtime` on `options.registry`, or null when prom-client is not installed. */
  static create(
    runtime: ClusterSessionRuntime,
    options: MetricsOptions = {},
  ): ClusterSessionMetrics | null {
    const prom = loadPromClient();
    if (!prom) {
      return null;
    }
    return new ClusterSessionMetrics(
      prom,
      runtime,
      options.registry ?? prom.register,
      options.prefix ?? 'cluster_session_',
    );
  }

  /** Unregisters every metric this node added. */
  remove(): void {
    this.stopLag?.();
    for (const { name, metric } of this.added) {
      // only ours: another app in this process may have replaced it under the same name
      if (this.registry.getSingleMetric(name) === metric) {
        this.registry.removeSingleMetric(name);
      }
    }
  }

  /** Registers a metric, replacing one of the same name (an earlier app in this process). */
  private add(name: string, register: (name: string) => void): void {
    if (this.registry.getSingleMetric(name)) {
      this.registry.removeSingleMetric(name);
    }
    register(name);
    this.added.push({ name, metric: this.registry.getSingleMetric(name) });
  }
}
