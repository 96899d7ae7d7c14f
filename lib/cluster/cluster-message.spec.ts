import fc from 'fast-check';
import { generateSessionId } from '../session/session-id.util';
import {
  claimedOrigin,
  encodeClusterMessage,
  parseClusterMessage,
  type Announcement,
} from './cluster-message';
import { MessageAuthenticator } from './message-auth';

const SECRET = 'cluster-message-spec-secret-of-32-chars';
const SCOPE = { channel: 'session:cluster:invalidate', keyPrefix: 'sess:' };
const FROM = { origin: 'node-a', epoch: 'ab'.repeat(8), seq: 7, sentAt: 1_700_000_000_123 };

describe('cluster messages (ncs3: built and signed by the node, published as they are)', () => {
  const auth = new MessageAuthenticator([SECRET], SCOPE);
  const id = generateSessionId();
  const published = (announcement: Announcement) => encodeClusterMessage(announcement, FROM, auth);
  const update: Announcement = {
    kind: 'update',
    id,
    version: 4,
    change: {
      touchedAt: 1_700_000_000_100,
      deadline: 1_700_003_600_100,
      user: 'u|1', // a "|" inside the payload is data, not a separator
      maxAge: null,
      set: [['d:cart', '{"items":["a|b"]}']],
      removed: ['d:flash'],
    },
  };

  it('round-trips every kind', () => {
    const announcements: Announcement[] = [
      update,
      { kind: 'invalidate', id, version: 4 },
      { kind: 'destroy', ids: [id, generateSessionId()] },
      { kind: 'clear' },
      { kind: 'noop' },
    ];
    for (const announcement of announcements) {
      expect(parseClusterMessage(published(announcement), auth)).toEqual({
        ...announcement,
        ...FROM,
      });
    }
    // unchanged owner and cookie lifetime travel as "unchanged", not as a value
    const plain: Announcement = {
      ...update,
      change: { touchedAt: 1, deadline: 2, set: [], removed: [] },
    };
    expect(parseClusterMessage(published(plain), auth)).toMatchObject({ change: plain.change });
  });

  it('an altered change, version, id, kind or sequence number does not verify', () => {
    const good = published(update);
    const alterations = [
      good.replace('a|b', 'a|c'),
      good.replace('|4|', '|5|'),
      good.replace(id, generateSessionId()),
      good.replace('ncs3|u|', 'ncs3|i|'),
      good.replace('|7|', '|8|'),
      good.replace('node-a', 'node-b'),
      good.replace('1700003600100', '1700007200100'),
      good.replace('1700000000123', '1700000000124'),
    ];
    for (const altered of alterations) {
      expect(altered).not.toBe(good);
      expect(parseClusterMessage(altered, auth)).toBeNull();
    }
  });

  it('another secret, channel or key prefix does not verify; a rotation keeps the old secret verifying', () => {
    const good = published(update);
    expect(
      parseClusterMessage(good, new MessageAuthenticator([`${SECRET}-other`], SCOPE)),
    ).toBeNull();
    expect(
      parseClusterMessage(good, new MessageAuthenticator([SECRET], { ...SCOPE, channel: 'c2' })),
    ).toBeNull();
    expect(
      parseClusterMessage(good, new MessageAuthenticator([SECRET], { ...SCOPE, keyPrefix: 'x:' })),
    ).toBeNull();
    expect(
      parseClusterMessage(good, new MessageAuthenticator([`${SECRET}-new`, SECRET], SCOPE)),
    ).not.toBeNull();
  });

  it('a signed change that cannot be read still invalidates (it says the version exists)', () => {
    const signed = (payload: string, version = 4) => {
      const body = `ncs3|u|${id}|${version}|node-a|${FROM.epoch}|7|${FROM.sentAt}|${payload}`;
      return `${body}|${auth.sign(body)}`;
    };
    expect(parseClusterMessage(signed('[1,1000,0,0,[],[]]'), auth)).not.toBeNull();
    for (const payload of [
      '',
      '{}',
      '[1,0,0,0,[],[]]', // no deadline
      '[1,1000,0,0,[["d:a"]],[]]', // a pair without a value
      '[1,1000,0,0,[["d:a",1]],[]]', // a value that is not as stored (a string)
      '[1,1000,"",0,[],[]]', // an empty owner
      '[1,1000,0,-5,[],[]]', // a negative cookie lifetime
      '[1,1000,0,0,[],[""]]',
      '[1,1000,0,0,[],[]',
    ]) {
      expect(parseClusterMessage(signed(payload), auth)).toEqual({
        kind: 'invalidate',
        id,
        version: 4,
        ...FROM,
      });
    }
    // an update needs a version before it to apply to
    expect(parseClusterMessage(signed('[1,1000,0,0,[],[]]', 1), auth)).toBeNull();
  });

  it('property: never throws, and accepts only what the node signed', () => {
    const good = published(update);
    const mutated = fc
      .tuple(fc.nat(good.length), fc.nat(8), fc.string({ maxLength: 8 }))
      .map(([at, cut, insert]) => good.slice(0, at) + insert + good.slice(at + cut));
    fc.assert(
      fc.property(fc.oneof(mutated, fc.anything()), (raw) => {
        const message = parseClusterMessage(raw, auth);
        if (message === null) {
          return true;
        }
        // accepted: exactly what the node signed
        return raw === good;
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('claimedOrigin (what a warning names of a message that failed verification)', () => {
  it('names a node id as it is', () => {
    expect(claimedOrigin('ncs3|d|x|0|node-a.1:2@h|0123|1|0||mac')).toBe('node-a.1:2@h');
  });

  it('never prints a line break, a pipe-free long string or nothing', () => {
    expect(claimedOrigin('ncs3|d|x|0|attacker\nFAKE LOG LINE|e|1|0||m')).toBe('(unreadable)');
    expect(claimedOrigin(`ncs3|d|x|0|${'a'.repeat(65)}|e|1|0||m`)).toBe('(unreadable)');
    expect(claimedOrigin('ncs3|d')).toBe('(unreadable)');
  });
});
