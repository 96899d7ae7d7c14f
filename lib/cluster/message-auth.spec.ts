import { createHash, createHmac } from 'node:crypto';
import { generateSessionId } from '../session/session-id.util';
import { parseClusterMessage } from './cluster-message';
import { MessageAuthenticator } from './message-auth';

const SECRET = 'message-auth-spec-secret-of-32-characters';
const SCOPE = { channel: 'session:cluster:invalidate', keyPrefix: 'sess:' };
const body = (version: string) =>
  `${version}|i|${generateSessionId()}|3|node-a|${'ab'.repeat(8)}|12|1700000000000000`;

describe('MessageAuthenticator', () => {
  const auth = new MessageAuthenticator([SECRET], SCOPE);

  const sha1hex = (data: Buffer | string) => createHash('sha1').update(data).digest('hex');
  /** What `redis.sha1hex(ARGV[6] .. redis.sha1hex(ARGV[5] .. body))` gives, as the script signs. */
  const scriptMac = (message: string) =>
    sha1hex(
      Buffer.concat([
        auth.outerKey,
        Buffer.from(sha1hex(Buffer.concat([auth.innerKey, Buffer.from(message)]))),
      ]),
    );

  it('ncs3 during a rotation: one MAC per secret; any valid one verifies, nothing malformed does', () => {
    const OTHER = 'another-secret-that-is-at-least-32-chars';
    const body = 'ncs3|n||0|node-a|abababababababab|7|1700000000123|';
    const both = new MessageAuthenticator([OTHER, SECRET], SCOPE).sign(body);
    expect(both.split(',')).toHaveLength(2);
    // a node with only one of the two secrets verifies it
    expect(auth.verify(body, both)).toBe(true);
    expect(new MessageAuthenticator([OTHER], SCOPE).verify(body, both)).toBe(true);
    // a valid MAC with anything malformed beside it is not the message the sender signed
    const mine = auth.sign(body);
    for (const tampered of [
      `${mine},`,
      `${mine},zz`,
      `,${mine}`,
      `${mine},${mine.toUpperCase()}`,
    ]) {
      expect(auth.verify(body, tampered)).toBe(false);
    }
    expect(auth.verify(body, Array(9).fill(mine).join(','))).toBe(false); // at most 8
  });

  it('ncs2: the nested construction over the hex inner digest, as the Lua script computes it', () => {
    const message = body('ncs2');
    expect(auth.verify(message, scriptMac(message))).toBe(true);
    expect(parseClusterMessage(`${message}|${scriptMac(message)}`, auth)?.kind).toBe('invalidate');
  });

  it('ncs1 (from nodes of earlier versions): HMAC-SHA1 proper still verifies', () => {
    const message = body('ncs1');
    // the signing key, recovered from its pads: what an earlier node's script computed
    const key = Buffer.from(auth.innerKey.map((byte) => byte ^ 0x36));
    const hmac = createHmac('sha1', key).update(message).digest('hex');
    expect(parseClusterMessage(`${message}|${hmac}`, auth)?.kind).toBe('invalidate');
  });

  it('a MAC of one construction does not verify under the other, nor under another scope or secret', () => {
    const message = body('ncs2');
    const mac = scriptMac(message);
    expect(auth.verify(message.replace(/^ncs2/, 'ncs1'), mac)).toBe(false);
    expect(
      new MessageAuthenticator([SECRET], { ...SCOPE, keyPrefix: 'other:' }).verify(message, mac),
    ).toBe(false);
    expect(new MessageAuthenticator([`${SECRET}-other`], SCOPE).verify(message, mac)).toBe(false);
    // rotation: a node that also knows the old secret verifies what the old signer sent
    expect(new MessageAuthenticator([`${SECRET}-new`, SECRET], SCOPE).verify(message, mac)).toBe(
      true,
    );
  });
});
