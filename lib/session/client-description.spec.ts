import type { IncomingMessage } from 'node:http';
import {
  clientDescriber,
  decodeClientDescription,
  encodeClientDescription,
} from './client-description';

const request = { headers: { 'user-agent': 'Firefox' } } as unknown as IncomingMessage;

describe('client descriptions (describeClient)', () => {
  it('stores a small object of strings as JSON, and reads it back', () => {
    const encoded = encodeClientDescription({ userAgent: 'Firefox', city: 'Lyon' });
    expect(encoded).toEqual({ encoded: '{"userAgent":"Firefox","city":"Lyon"}' });
    expect(decodeClientDescription((encoded as { encoded: string }).encoded)).toEqual({
      userAgent: 'Firefox',
      city: 'Lyon',
    });
  });

  it.each([
    ['a string', 'Firefox', /a string, not an object of strings/],
    ['null', null, /null, not an object of strings/],
    ['an array', ['a'], /an array, not an object of strings/],
    ['a number value', { n: 1 }, /key "n" holds a number, not a string/],
    [
      '17 keys',
      Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])),
      /17 keys, at most 16/,
    ],
    ['over 1,024 bytes', { agent: 'é'.repeat(600) }, /bytes as JSON, at most 1024/],
  ])('refuses %s, saying why', (_, value, problem) => {
    const encoded = encodeClientDescription(value);
    expect('problem' in encoded && encoded.problem).toMatch(problem);
  });

  it.each([
    ['not JSON', '{'],
    ['JSON of the wrong shape', '{"a":1}'],
    ['an empty string', ''],
    ['not a string', 42],
    ['too long', JSON.stringify({ a: 'x'.repeat(2_000) })],
  ])('reads %s from Redis as no description', (_, raw) => {
    expect(decodeClientDescription(raw)).toBeUndefined();
  });

  it('binds describeClient to the request, and records nothing when it throws or answers wrong', () => {
    expect(clientDescriber(null, request)).toBeUndefined();
    const ua = clientDescriber((r) => ({ ua: String(r.headers['user-agent']) }), request)!;
    expect(ua()).toEqual({ ua: 'Firefox' });
    const throwing = clientDescriber(() => {
      throw new Error('boom');
    }, request)!;
    expect(throwing()).toBeUndefined();
    const wrong = clientDescriber(() => ({ n: 1 }) as unknown as Record<string, string>, request)!;
    expect(wrong()).toBeUndefined();
    expect(clientDescriber(() => undefined, request)!()).toBeUndefined();
  });
});
