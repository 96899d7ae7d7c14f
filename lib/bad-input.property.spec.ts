import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { MessageAuthenticator } from './cluster/message-auth';
import { parseClusterMessage } from './cluster/cluster-message';
import { SessionCookieService } from './http/session-cookie.service';
import { resolveOptions } from './options/resolve-options';
import { SessionCookieSigner } from './session/session-cookie.signer';
import { generateSessionId, isSessionId } from './session/session-id.util';
import { CorruptSessionData, decodeSnapshot } from './store/session-codec';

/**
 * Everything that comes from outside (cookies, Pub/Sub messages, Redis contents), fed 100,000
 * generated inputs each: no exception escapes, and what is accepted is well-formed.
 */
const RUNS = { numRuns: 100_000 };
const SECRET = 'property-test-secret-of-32-characters!';

/** Strings near the valid shape as well as arbitrary ones: mutations of a valid value. */
function mutated(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc
      .tuple(fc.nat(valid.length), fc.nat(valid.length), fc.string({ maxLength: 8 }))
      .map(([at, cut, insert]) => valid.slice(0, at) + insert + valid.slice(at + Math.min(cut, 3))),
    fc.constantFrom(valid, `${valid}.`, valid.toUpperCase(), valid.replace(/\./g, '|')),
  );
}

describe('bad input, property-tested (100,000 inputs each)', () => {
  it('session cookies: never throws; accepts only a valid id with a valid signature', () => {
    const signer = new SessionCookieSigner([SECRET, `${SECRET}-old`]);
    const valid = signer.sign(generateSessionId(), 7);
    fc.assert(
      fc.property(fc.oneof(mutated(valid), fc.anything()), (value) => {
        const result = signer.unsign(value);
        if (result === null) {
          return true;
        }
        // accepted only what one of the secrets signed: re-signing reproduces the value
        return (
          isSessionId(result.id) &&
          Number.isSafeInteger(result.version) &&
          (signer.sign(result.id, result.version) === value ||
            new SessionCookieSigner(`${SECRET}-old`).sign(result.id, result.version) === value)
        );
      }),
      RUNS,
    );
  });

  it('Cookie headers: parsing and verification never throw; only a valid signed cookie is read', () => {
    const options = resolveOptions({ secret: SECRET });
    const cookies = new SessionCookieService(options);
    const signed = new SessionCookieSigner(SECRET).sign(generateSessionId(), 3);
    const header = `theme=dark; sid=${encodeURIComponent(signed)}; other=1`;
    expect(cookies.read(header)?.version).toBe(3);
    fc.assert(
      fc.property(fc.oneof(mutated(header), fc.anything()), (value) => {
        const read = cookies.read(value as string);
        return read === null || (typeof value === 'string' && isSessionId(read.id));
      }),
      RUNS,
    );
  });

  it('Pub/Sub messages: never throws; a forged or malformed message is rejected', () => {
    const auth = new MessageAuthenticator([SECRET], { channel: 'c', keyPrefix: 'sess:' });
    const body = `ncs1|i|${generateSessionId()}|3|node-a|${'ab'.repeat(8)}|12|1700000000000000`;
    // an ncs1 message: HMAC-SHA1 under the signing key (recovered from its inner pad)
    const key = Buffer.from(auth.innerKey.map((byte) => byte ^ 0x36));
    const valid = `${body}|${createHmac('sha1', key).update(body).digest('hex')}`;
    expect(parseClusterMessage(valid, auth)?.kind).toBe('invalidate');
    fc.assert(
      fc.property(fc.oneof(mutated(valid), fc.anything()), (raw) => {
        const message = parseClusterMessage(raw, auth);
        if (message === null) {
          return true;
        }
        // accepted: a string whose MAC verifies over everything before it
        const text = raw as string;
        const cut = text.lastIndexOf('|');
        return auth.verify(text.slice(0, cut), text.slice(cut + 1));
      }),
      RUNS,
    );
  });

  it('stored sessions: never throws; returns a snapshot, no session, or CorruptSessionData', () => {
    const field = fc.oneof(
      fc.constantFrom('v', 'created', 'expires', 'touched', 'user', 'd:a', 'd:b'),
      fc.string(),
    );
    const value = fc.oneof(
      fc.constantFrom('1', '0', '-1', '1e3', '{"x":1}', '[', 'null', String(Date.now() + 60_000)),
      fc.string(),
    );
    const hash = fc.oneof(
      fc.array(fc.tuple(field, value)).map((pairs) => pairs.flat()),
      fc.array(fc.anything()),
      fc.anything(),
    );
    fc.assert(
      fc.property(hash, fc.oneof(fc.integer(), fc.anything()), fc.integer(), (h, pttl, now) => {
        const result = decodeSnapshot({ hash: h, pttl, now } as never);
        return (
          result === null ||
          result instanceof CorruptSessionData ||
          (Number.isInteger(result.version) && result.version >= 1)
        );
      }),
      RUNS,
    );
  });
});
