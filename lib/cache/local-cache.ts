import { createCache, type Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { LRUCache } from 'lru-cache';
import { deepFreeze, type DeepReadonly } from './deep-freeze.util';
import type { CacheStats, LocalCacheOptions } from './local-cache.interface';

interface Entry<T> {
  readonly value: DeepReadonly<T>;
  readonly expiresAt: number;
}

/** What Keyv keeps in its store for each key: its own envelope around our entry. */
interface KeyvRecord<T> {
  value: Entry<T>;
  expires?: number;
}

/**
 * This node's in-memory cache of sessions: cache-manager over Keyv over an O(1) LRU (`lru-cache`).
 *
 * Expiry is checked on read against one injectable clock, so an entry is never served at or after
 * `ttl` milliseconds from its `set`. Keyv's own serialization is turned off (a hit costs no
 * JSON parse); values are cloned and deep-frozen once on `set` instead, so nobody can change what
 * the next caller gets. Expired entries keep their slot until they are read, deleted or evicted;
 * evicting one does not count as an eviction.
 *
 * A node without a local cache (`cluster.localCacheEnabled: false`) still has one, disabled:
 * `enabled` is false, it holds nothing and `get` finds nothing (counted as no miss). The module
 * builds it from validated options (`cluster.localCacheTtl`, `localCacheMaxSize`).
 *
 * @publicApi
 */
export class LocalCache<T = unknown> {
  /** False when the node runs without a local cache: nothing is stored, every read misses. */
  readonly enabled: boolean;
  private readonly lru: LRUCache<string, KeyvRecord<T>>;
  private readonly cache: Cache;
  private readonly ttl: number;
  private readonly now: () => number;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(options: LocalCacheOptions) {
    this.enabled = options.enabled ?? true;
    this.ttl = options.ttl;
    this.now = options.now ?? (() => performance.now());
    this.lru = new LRUCache<string, KeyvRecord<T>>({
      max: options.maxSize,
      dispose: (record, _key, reason) => {
        if (reason === 'evict' && this.isLive(record.value)) {
          this.evictions++;
        }
      },
    });
    const store = new Keyv<Entry<T>>({
      store: this.lru,
      serialize: undefined,
      deserialize: undefined,
      useKeyPrefix: false,
    });
    this.cache = createCache({ stores: [store] });
  }

  /** The cached value, or `undefined` when absent or expired. The value is deep-frozen. */
  async get(key: string): Promise<DeepReadonly<T> | undefined> {
    if (!this.enabled) {
      return undefined; // holds nothing; not a miss of a cache that exists
    }
    const entry = await this.cache.get<Entry<T>>(key);
    if (entry !== undefined && this.isLive(entry)) {
      this.hits++;
      return entry.value;
    }
    this.misses++;
    // Drop the expired entry unless a concurrent set has already replaced it.
    if (entry !== undefined && this.lru.peek(key)?.value === entry) {
      await this.cache.del(key);
    }
    return undefined;
  }

  /**
   * Stores a frozen copy of `value` for `ttl` milliseconds (default: the cache's TTL).
   * A `ttl` of 0 or less stores nothing and drops any entry held for `key`.
   */
  async set(key: string, value: T, ttl = this.ttl): Promise<void> {
    if (!this.enabled || !(ttl > 0)) {
      await this.cache.del(key);
      return;
    }
    const entry: Entry<T> = {
      value: deepFreeze(structuredClone(value)),
      expiresAt: this.now() + ttl,
    };
    await this.cache.set(key, entry);
  }

  /** Drops the entry for `key`; true when it held an unexpired one. */
  async delete(key: string): Promise<boolean> {
    const entry = this.lru.peek(key)?.value;
    await this.cache.del(key);
    return entry !== undefined && this.isLive(entry);
  }

  /** Drops every entry. Statistics are kept; see `resetStats()`. */
  async clear(): Promise<void> {
    await this.cache.clear();
  }

  /** Counters since creation or the last `resetStats()`; `size` counts unexpired entries (O(n)). */
  stats(): CacheStats {
    let size = 0;
    this.lru.forEach((record) => {
      if (this.isLive(record.value)) {
        size++;
      }
    });
    const lookups = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      size,
      hitRate: lookups === 0 ? 0 : this.hits / lookups,
    };
  }

  /** Sets hits, misses and evictions back to zero. */
  resetStats(): void {
    this.hits = 0;
    this.misses = 0;
    this.evictions = 0;
  }

  private isLive(entry: Entry<T>): boolean {
    return entry.expiresAt > this.now();
  }
}
