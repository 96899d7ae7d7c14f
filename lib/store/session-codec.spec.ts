import { InvalidSessionDataError } from '../errors/invalid-session-data.error';
import { SessionTooLargeError } from '../errors/session-too-large.error';
import { Session } from '../session/session';
import { generateSessionId } from '../session/session-id.util';
import {
  CorruptSessionData,
  decodeSnapshot,
  encodeDelta,
  toSession,
  type RawSession,
} from './session-codec';

/** What the store does with a reply: a session, or why there is none. */
function decodeSession(id: string, raw: RawSession, localNow = Date.now()) {
  const snapshot = decodeSnapshot(raw, localNow);
  return snapshot === null || snapshot instanceof CorruptSessionData
    ? snapshot
    : toSession(id, snapshot);
}

const NOW = 1_700_000_000_000;
const valid = (extra: string[] = []) => ({
  hash: [
    'v',
    '3',
    'created',
    String(NOW - 1_000),
    'expires',
    String(NOW + 60_000),
    'touched',
    String(NOW - 500),
    'd:cart',
    '{"items":[1]}',
    ...extra,
  ],
  pttl: 30_000,
  now: NOW,
});

describe('session codec', () => {
  const id = generateSessionId();

  it('decodes a stored hash into a session with its own data and state', () => {
    const session = decodeSession(id, valid(['user', 'u1']), 5_000) as Session;
    expect(session).toBeInstanceOf(Session);
    expect(session.data).toEqual({ cart: { items: [1] } });
    expect(session.version).toBe(3);
    expect(session.userId).toBe('u1');
    expect(session.expiresAt).toBe(5_000 + 30_000);
    expect(session.touchedAt).toBe(5_000 - 500);
  });

  it('caps expiry at the absolute deadline and treats a passed deadline as no session', () => {
    const nearDeadline = valid();
    nearDeadline.hash[5] = String(NOW + 100);
    expect((decodeSession(id, nearDeadline, 0) as Session).expiresAt).toBe(100);
    const past = valid();
    past.hash[5] = String(NOW);
    expect(decodeSession(id, past)).toBeNull();
  });

  it('keeps a stored "__proto__" key as data, never as the prototype', () => {
    const session = decodeSession(id, valid(['d:__proto__', '{"admin":true}'])) as Session;
    expect(Object.getPrototypeOf(session.data)).toBe(Object.prototype);
    expect((session.data as { admin?: boolean }).admin).toBeUndefined();
  });

  it.each([
    ['a field that is not JSON', valid(['d:x', '{nope'])],
    ['a missing version', { ...valid(), hash: valid().hash.slice(2) }],
    [
      'a version that is not a number',
      { ...valid(), hash: ['v', 'abc', ...valid().hash.slice(2)] },
    ],
    ['missing timestamps', { ...valid(), hash: ['v', '1', 'd:a', '1'] }],
    ['no expiry on the key', { ...valid(), pttl: -1 }],
    ['an odd-length hash', { ...valid(), hash: ['v'] }],
  ])('reports %s as corrupt', (_name, raw) => {
    expect(decodeSession(id, raw)).toBeInstanceOf(CorruptSessionData);
  });

  it('encodes only the top-level keys that changed, and the removed ones', () => {
    const session = decodeSession(id, valid(['d:theme', '"dark"', 'd:old', '1'])) as Session;
    const data = session.data as {
      cart: { items: number[] };
      theme?: string;
      old?: number;
      added?: boolean;
    };
    data.cart.items.push(2);
    delete data.old;
    data.added = true;
    const delta = encodeDelta(session, 65_536);
    expect(delta.set).toEqual([
      ['d:cart', '{"items":[1,2]}'],
      ['d:added', 'true'],
    ]);
    expect(delta.removed).toEqual(['d:old']);
    expect([...delta.fields.keys()].sort()).toEqual(['d:added', 'd:cart', 'd:theme']);
  });

  it('refuses a session above maxSessionBytes, naming the size and the option', () => {
    const session = new Session(id, { blob: 'x'.repeat(70 * 1024) });
    expect(() => encodeDelta(session, 65_536)).toThrow(SessionTooLargeError);
    expect(() => encodeDelta(session, 65_536)).toThrow(
      /is 70 KB, limit 64 KB \(option maxSessionBytes\)/,
    );
  });

  it('refuses values JSON cannot hold', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeDelta(new Session(id, { big: 1n }), 1e6)).toThrow(InvalidSessionDataError);
    expect(() => encodeDelta(new Session(id, { cyclic }), 1e6)).toThrow(
      /session key "cyclic" cannot be stored/,
    );
  });
});
