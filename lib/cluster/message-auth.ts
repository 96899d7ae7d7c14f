import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** SHA-1's block size: a key of exactly this length is used by HMAC as it is. */
const BLOCK = 64;

/** What a message is for: apps sharing a secret (and a Redis) but not a channel or key prefix reject each other's messages. */
export interface MessageScope {
  channel: string;
  keyPrefix: string;
}

/**
 * Authenticates Pub/Sub messages with HMAC-SHA1 under a key derived from each session secret
 * and the message scope (HKDF-SHA256), so the cookie secret itself never leaves the process and
 * a message replayed on another channel, or to an app with another key prefix, fails. SHA-1 because the
 * message is MACed inside the Lua script, where `redis.sha1hex` is the only hash; HMAC-SHA1 is
 * still a sound MAC. The first secret signs; every secret verifies (rotation).
 */
export class MessageAuthenticator {
  private readonly keys: Buffer[];
  /** The first key XOR ipad and XOR opad, for the script to compute the HMAC. */
  readonly innerKey: Buffer;
  readonly outerKey: Buffer;

  constructor(secrets: readonly string[], { channel, keyPrefix }: MessageScope) {
    // JSON keeps the two parts apart: no channel/prefix pair can imitate another
    const info = `pubsub-mac-v2${JSON.stringify([channel, keyPrefix])}`;
    this.keys = secrets.map((secret) =>
      Buffer.from(hkdfSync('sha256', secret, 'nestjs-cluster-session', info, BLOCK)),
    );
    this.innerKey = xor(this.keys[0], 0x36);
    this.outerKey = xor(this.keys[0], 0x5c);
  }

  /** Hex MAC of `body` under the signing key (what the script publishes). */
  sign(body: string): string {
    return createHmac('sha1', this.keys[0]).update(body).digest('hex');
  }

  verify(body: string, macHex: string): boolean {
    if (!/^[0-9a-f]{40}$/.test(macHex)) return false;
    const mac = Buffer.from(macHex, 'hex');
    return this.keys.some((key) =>
      timingSafeEqual(createHmac('sha1', key).update(body).digest(), mac),
    );
  }
}

function xor(key: Buffer, pad: number): Buffer {
  return Buffer.from(key.map((byte) => byte ^ pad));
}
