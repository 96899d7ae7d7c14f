import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** SHA-1's block size: a key of exactly this length is used by HMAC as it is. */
const BLOCK = 64;
/** MACs read from one message at most (a sender with more secrets than this is not verified). */
const MAX_MACS = 8;

/** What a message is for: apps sharing a secret (and a Redis) but not a channel or key prefix reject each other's messages. */
export interface MessageScope {
  channel: string;
  keyPrefix: string;
}

/**
 * Authenticates Pub/Sub messages under a key derived from each session secret and the message
 * scope (HKDF-SHA256), so the cookie secret itself never leaves the process and a message
 * replayed on another channel, or to an app with another key prefix, fails.
 *
 * While secrets rotate (more than one configured), an `ncs3` message carries one MAC per
 * secret (comma-separated, in the order configured), and a receiver accepts it when one of them
 * is valid under one of its own secrets: so during a rolling deploy, a node that has only the
 * old secret and a node that already has only the new one both verify a node that has both
 * (README, "Secret rotation"). With one secret the message carries one MAC, as before.
 *
 * `ncs3` messages are signed here, by the node, before the write is sent: HMAC-SHA256 truncated
 * to 128 bits (32 hex digits). The script only publishes what it is given, so no key travels to
 * Redis and Redis spends no time hashing. Earlier versions signed inside the script, where
 * `redis.sha1hex` is the only hash: `ncs2` messages carry `SHA1(K ^ opad || hex(SHA1(K ^ ipad ||
 * body)))` (HMAC-SHA1's nested construction over the hex inner digest) and `ncs1` messages
 * HMAC-SHA1 proper. Both still verify, so nodes of those versions can be replaced one by one; they
 * ignore `ncs3`, so during such an upgrade their caches learn nothing from the new nodes (the
 * README says how to upgrade).
 */
export class MessageAuthenticator {
  /** Each secret's derived key, with its ipad and opad forms (the script's `ncs2` MAC uses those). */
  private readonly keys: MacKey[];
  /** The first key XOR ipad and XOR opad (the `ncs2` construction's inputs). */
  readonly innerKey: Buffer;
  readonly outerKey: Buffer;

  constructor(secrets: readonly string[], { channel, keyPrefix }: MessageScope) {
    // JSON keeps the two parts apart: no channel/prefix pair can imitate another
    const info = `pubsub-mac-v2${JSON.stringify([channel, keyPrefix])}`;
    this.keys = secrets.map((secret) => {
      const key = Buffer.from(hkdfSync('sha256', secret, 'nestjs-cluster-session', info, BLOCK));
      return { key, inner: xor(key, 0x36), outer: xor(key, 0x5c) };
    });
    this.innerKey = this.keys[0].inner;
    this.outerKey = this.keys[0].outer;
  }

  /** The MACs of an `ncs3` body, one under each secret's key, comma-separated. */
  sign(body: string): string {
    return this.keys.map((key) => mac(body, key).toString('hex')).join(',');
  }

  /** Whether one of the MACs given is valid under one of this node's secrets. */
  verify(body: string, macs: string): boolean {
    const length = body.startsWith('ncs3|') ? 32 : 40;
    const given = length === 32 ? macs.split(',', MAX_MACS + 1) : [macs];
    // every entry well formed (a message is as its sender wrote it, or not at all); one valid
    // under one of this node's secrets (the others are secrets this node does not have)
    if (
      given.length > MAX_MACS ||
      !given.every((macHex) => macHex.length === length && /^[0-9a-f]+$/.test(macHex))
    ) {
      return false;
    }
    return given.some((macHex) => {
      const bytes = Buffer.from(macHex, 'hex');
      return this.keys.some((key) => timingSafeEqual(mac(body, key), bytes));
    });
  }
}

interface MacKey {
  key: Buffer;
  inner: Buffer;
  outer: Buffer;
}

/** `ncs3`: HMAC-SHA256, 128 bits; `ncs2`: the nested construction over the hex inner digest; `ncs1`: HMAC-SHA1. */
function mac(body: string, { key, inner, outer }: MacKey): Buffer {
  if (body.startsWith('ncs3|')) {
    return createHmac('sha256', key).update(body).digest().subarray(0, 16);
  }
  if (!body.startsWith('ncs2|')) {
    return createHmac('sha1', key).update(body).digest();
  }
  const innerHex = createHash('sha1').update(inner).update(body).digest('hex');
  return createHash('sha1').update(outer).update(innerHex).digest();
}

function xor(key: Buffer, pad: number): Buffer {
  return Buffer.from(key.map((byte) => byte ^ pad));
}
