import fc from 'fast-check';
import { LocalCache } from './local-cache';

/**
 * Reference model: a Map in recency order (least recently used first) with an expiry per entry.
 * Expired entries keep their slot until read, deleted or evicted; evicting one is not an eviction.
 */
class ModelCache {
  private readonly entries = new Map<string, { value: number; expiresAt: number }>();
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(
    private readonly ttl: number,
    private readonly maxSize: number,
  ) {}

  get(key: string, now: number): number | undefined {
    const entry = this.entries.get(key);
    this.entries.delete(key);
    if (entry && entry.expiresAt > now) {
      this.entries.set(key, entry);
      this.hits++;
      return entry.value;
    }
    this.misses++;
    return undefined;
  }

  set(key: string, value: number, ttl: number | undefined, now: number): void {
    const effectiveTtl = ttl ?? this.ttl;
    if (this.entries.delete(key) || effectiveTtl <= 0) {
      // replaced in place, or dropped
    } else if (this.entries.size >= this.maxSize) {
      const [victim, entry] = this.entries.entries().next().value as [
        string,
        { expiresAt: number },
      ];
      this.entries.delete(victim);
      if (entry.expiresAt > now) {
        this.evictions++;
      }
    }
    if (effectiveTtl > 0) {
      this.entries.set(key, { value, expiresAt: now + effectiveTtl });
    }
  }

  delete(key: string, now: number): boolean {
    const entry = this.entries.get(key);
    this.entries.delete(key);
    return entry !== undefined && entry.expiresAt > now;
  }

  clear(): void {
    this.entries.clear();
  }

  resetStats(): void {
    this.hits = this.misses = this.evictions = 0;
  }

  stats(now: number) {
    const size = [...this.entries.values()].filter((e) => e.expiresAt > now).length;
    const lookups = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      size,
      hitRate: lookups === 0 ? 0 : this.hits / lookups,
    };
  }
}

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const operation = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      key,
      value: fc.integer(),
      ttl: fc.option(fc.integer({ min: -5, max: 200 }), { nil: undefined }),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('get' as const), key }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), key }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 120 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('stats' as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('resetStats' as const) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('clear' as const) }), weight: 1 },
);

describe('LocalCache against a reference model', () => {
  it('agrees with the model on every result and every statistic', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(operation, { maxLength: 60 }),
        async (ttl, maxSize, operations) => {
          let now = 0;
          const cache = new LocalCache<number>({ ttl, maxSize, now: () => now });
          const model = new ModelCache(ttl, maxSize);
          for (const step of operations) {
            switch (step.op) {
              case 'set':
                await cache.set(step.key, step.value, step.ttl);
                model.set(step.key, step.value, step.ttl, now);
                break;
              case 'get':
                expect(await cache.get(step.key)).toBe(model.get(step.key, now));
                break;
              case 'delete':
                expect(await cache.delete(step.key)).toBe(model.delete(step.key, now));
                break;
              case 'advance':
                now += step.ms;
                break;
              case 'stats':
                expect(cache.stats()).toEqual(model.stats(now));
                break;
              case 'resetStats':
                cache.resetStats();
                model.resetStats();
                break;
              case 'clear':
                await cache.clear();
                model.clear();
                break;
            }
          }
          expect(cache.stats()).toEqual(model.stats(now));
        },
      ),
      { numRuns: 300 },
    );
  });
});
