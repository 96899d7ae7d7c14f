import { LocalCache } from './local-cache';

interface Doc {
  user: string;
  cart: { items: string[] };
}

function fakeClock(start = 1_000) {
  const clock = { time: start, now: () => clock.time };
  return clock;
}

describe('LocalCache', () => {
  it('returns what was set until the TTL has passed, then misses', async () => {
    const clock = fakeClock();
    const cache = new LocalCache<Doc>({ ttl: 100, maxSize: 10, now: clock.now });
    await cache.set('a', { user: 'ann', cart: { items: [] } });

    clock.time += 99;
    expect(await cache.get('a')).toEqual({ user: 'ann', cart: { items: [] } });
    clock.time += 1;
    expect(await cache.get('a')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, size: 0 });
  });

  it('honours a per-entry TTL, and stores nothing for a TTL of zero', async () => {
    const clock = fakeClock();
    const cache = new LocalCache<number>({ ttl: 1_000, maxSize: 10, now: clock.now });
    await cache.set('short', 1, 10);
    await cache.set('long', 2);
    await cache.set('long', 3, 0);

    expect(await cache.get('long')).toBeUndefined();
    clock.time += 10;
    expect(await cache.get('short')).toBeUndefined();
  });

  it('evicts the least recently used entry, and a get counts as a use', async () => {
    const cache = new LocalCache<number>({ ttl: 60_000, maxSize: 3 });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    await cache.get('a');
    await cache.set('d', 4);

    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe(1);
    expect(await cache.get('c')).toBe(3);
    expect(await cache.get('d')).toBe(4);
    expect(cache.stats().evictions).toBe(1);
  });

  it('counts evictions exactly: overwrites, deletes and expired victims are not evictions', async () => {
    const clock = fakeClock();
    const cache = new LocalCache<number>({ ttl: 50, maxSize: 2, now: clock.now });
    await cache.set('a', 1);
    await cache.set('a', 2); // overwrite
    await cache.set('b', 1);
    await cache.delete('b'); // delete
    await cache.set('b', 1);
    clock.time += 50; // a and b expire
    await cache.set('c', 1); // evicts expired a: not counted
    expect(cache.stats().evictions).toBe(0);
    await cache.set('d', 1); // evicts expired b: not counted
    await cache.set('e', 1); // evicts live c: counted
    await cache.set('f', 1); // evicts live d: counted
    expect(cache.stats()).toMatchObject({ evictions: 2, size: 2 });
  });

  it('hands out values that cannot change what the next caller gets', async () => {
    const cache = new LocalCache<Doc>({ ttl: 60_000, maxSize: 10 });
    const original: Doc = { user: 'ann', cart: { items: ['x'] } };
    await cache.set('a', original);
    original.cart.items.push('changed after set');

    const first = await cache.get('a');
    expect(() => {
      (first as Doc).cart.items.push('mutated by a reader');
    }).toThrow(/not extensible/);
    expect(() => {
      (first as Doc).user = 'mallory';
    }).toThrow(/read only/);
    expect(await cache.get('a')).toEqual({ user: 'ann', cart: { items: ['x'] } });
  });

  it('refuses values that cannot be frozen', async () => {
    const cache = new LocalCache<unknown>({ ttl: 60_000, maxSize: 10 });
    await expect(cache.set('m', new Map())).rejects.toThrow(/cannot freeze a Map.*JSON-like/);
    await expect(cache.set('s', { nested: new Set([1]) })).rejects.toThrow(/cannot freeze a Set/);
    expect(await cache.get('m')).toBeUndefined();
  });

  it('reports hits, misses, size and hit rate, and resets them', async () => {
    const cache = new LocalCache<number>({ ttl: 60_000, maxSize: 10 });
    expect(cache.stats()).toEqual({ hits: 0, misses: 0, evictions: 0, size: 0, hitRate: 0 });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.get('a');
    await cache.get('a');
    await cache.get('a');
    await cache.get('zz');
    expect(cache.stats()).toEqual({ hits: 3, misses: 1, evictions: 0, size: 2, hitRate: 0.75 });

    cache.resetStats();
    expect(cache.stats()).toEqual({ hits: 0, misses: 0, evictions: 0, size: 2, hitRate: 0 });
  });

  it('deletes one entry or clears all of them', async () => {
    const cache = new LocalCache<number>({ ttl: 60_000, maxSize: 10 });
    await cache.set('a', 1);
    await cache.set('b', 2);
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.delete('a')).toBe(false);
    expect(await cache.get('a')).toBeUndefined();
    await cache.clear();
    expect(await cache.get('b')).toBeUndefined();
    expect(cache.stats().size).toBe(0);
  });

  it('disabled: holds nothing, and a read of it counts as no miss', async () => {
    const disabled = new LocalCache<{ n: number }>({ ttl: 1_000, maxSize: 10, enabled: false });
    expect(disabled.enabled).toBe(false);
    await disabled.set('a', { n: 1 });
    expect(await disabled.get('a')).toBeUndefined();
    expect(disabled.stats()).toEqual({ hits: 0, misses: 0, evictions: 0, size: 0, hitRate: 0 });
  });
});
