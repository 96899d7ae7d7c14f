import type { SessionSnapshot } from './session-codec';
import { applyUpdate, type ArrivedUpdate } from './session-update';

/** This node's clock runs 5 s behind Redis's (offset +5,000 ms, as measured). */
const OFFSET = 5_000;
const LOCAL_NOW = 1_700_000_000_000;
const REDIS_NOW = LOCAL_NOW + OFFSET;
/** The wall clock minus the monotonic one when the offset was measured (and still: no step). */
const GAP = 1_699_999_000_000;

const copy: SessionSnapshot = {
  version: 3,
  createdAt: REDIS_NOW - 60_000,
  expiresAt: LOCAL_NOW + 1_000,
  touchedAt: LOCAL_NOW - 10_000,
  userId: 'u1',
  maxAge: 120_000,
  fields: [
    ['d:a', '1'],
    ['d:b', '"two"'],
  ],
  redisClock: {
    offset: OFFSET,
    lowOffset: OFFSET - 1,
    absoluteDeadline: REDIS_NOW + 3_600_000,
    wallGap: GAP,
  },
};
const plain = (_field: string, value: string) => value;
/** A save written 2 ms ago on the Redis clock with an idle timeout of 60 s. */
const arrived = (change: Partial<ArrivedUpdate['change']>): ArrivedUpdate => ({
  version: 4,
  change: {
    touchedAt: REDIS_NOW - 2,
    deadline: REDIS_NOW - 2 + 60_000,
    set: [],
    removed: [],
    ...change,
  },
});

describe('applyUpdate (a cached copy takes another node’s save)', () => {
  it('is the next version: changed keys set, removed keys gone, owner and cookie lifetime as changed', () => {
    const next = applyUpdate(
      copy,
      arrived({ set: [['d:c', '[3]']], removed: ['d:b'], user: null, maxAge: null }),
      plain,
      LOCAL_NOW,
      GAP,
    )!;
    expect(next.version).toBe(4);
    expect(new Map(next.fields)).toEqual(
      new Map([
        ['d:a', '1'],
        ['d:c', '[3]'],
      ]),
    );
    expect(next.userId).toBeNull();
    expect(next.maxAge).toBeUndefined();
    expect(next.createdAt).toBe(copy.createdAt);
    // the copy it came from is untouched (it is a frozen cache entry)
    expect(copy.fields).toHaveLength(2);
    const kept = applyUpdate(copy, arrived({ user: 'u2' }), plain, LOCAL_NOW, GAP)!;
    expect([kept.userId, kept.maxAge]).toEqual(['u2', 120_000]);
  });

  it('G7: the deadline is the one the save set (capped by the absolute deadline), in this node’s clock', () => {
    const next = applyUpdate(copy, arrived({}), plain, LOCAL_NOW, GAP)!;
    expect(next.expiresAt).toBe(LOCAL_NOW - 2 + 60_000);
    expect(next.touchedAt).toBe(LOCAL_NOW - 2);
    const capped = applyUpdate(
      {
        ...copy,
        redisClock: {
          offset: OFFSET,
          lowOffset: OFFSET - 1,
          absoluteDeadline: REDIS_NOW + 10_000,
          wallGap: GAP,
        },
      },
      arrived({}),
      plain,
      LOCAL_NOW,
      GAP,
    )!;
    expect(capped.expiresAt).toBe(LOCAL_NOW + 10_000);
  });

  it('is nothing when it cannot be applied safely or has expired', () => {
    expect(
      applyUpdate({ ...copy, redisClock: undefined }, arrived({}), plain, LOCAL_NOW, GAP),
    ).toBeNull();
    expect(applyUpdate(copy, arrived({ set: [['v', '9']] }), plain, LOCAL_NOW, GAP)).toBeNull();
    expect(applyUpdate(copy, arrived({ removed: ['user'] }), plain, LOCAL_NOW, GAP)).toBeNull();
    expect(applyUpdate(copy, arrived({ set: [['d:x', '{']] }), plain, LOCAL_NOW, GAP)).toBeNull();
    expect(
      applyUpdate(copy, arrived({ set: [['d:x', '1']] }), () => null, LOCAL_NOW, GAP),
    ).toBeNull();
    // this node's wall clock stepped (back 1.5 s) since the offset was measured
    expect(applyUpdate(copy, arrived({}), plain, LOCAL_NOW, GAP - 1_500)).toBeNull();
    // a deadline already past: the save deleted it
    expect(applyUpdate(copy, arrived({ deadline: REDIS_NOW }), plain, LOCAL_NOW, GAP)).toBeNull();
  });
});
