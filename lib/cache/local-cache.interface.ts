/** Options of a {@link LocalCache}. */
export interface LocalCacheOptions {
  /** How long an entry may be served after it was stored, in milliseconds (`cluster.localCacheTtl`). */
  ttl: number;
  /** Entries kept before the least recently used one is evicted (`cluster.localCacheMaxSize`). */
  maxSize: number;
  /** Monotonic clock in milliseconds; tests pass a fake one. Default `performance.now()`. */
  now?: () => number;
  /** False for the cache of a node that runs without one (`cluster.localCacheEnabled: false`). */
  enabled?: boolean;
}

/**
 * Counters of a {@link LocalCache} since it was created or since `resetStats()`.
 *
 * @publicApi
 */
export interface CacheStats {
  /** `get` calls answered from the cache. */
  hits: number;
  /** `get` calls that found nothing, or only an expired entry. */
  misses: number;
  /** Unexpired entries dropped to make room for a new one (capacity evictions, counted exactly). */
  evictions: number;
  /** Unexpired entries held now. */
  size: number;
  /** `hits / (hits + misses)`, 0 before the first `get`. */
  hitRate: number;
}
