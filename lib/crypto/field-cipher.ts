import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

const PREFIX = 'e1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** 32-byte AES-256 keys derived from session secrets with HKDF-SHA256 (never the secret itself). */
export function deriveEncryptionKeys(secrets: readonly string[]): Buffer[] {
  return secrets.map((secret) =>
    Buffer.from(hkdfSync('sha256', secret, 'nestjs-cluster-session', 'encryption-at-rest-v1', 32)),
  );
}

/**
 * Encrypts session values at rest with AES-256-GCM. Each value gets a fresh 96-bit IV, and the
 * session id and field name as additional data, so a ciphertext moved to another session or field
 * fails to authenticate. Stored as `e1:<key id>:<base64url(iv | ciphertext | tag)>`; the first
 * key encrypts, every key decrypts (rotation), the key id says which.
 */
export class FieldCipher {
  private readonly keys: Map<string, Buffer>;
  private readonly current: { id: string; key: Buffer };
  /** MAC keys of the origin binding, one per encryption key (the first signs). */
  private readonly originKeys: Buffer[];

  constructor(keys: readonly Buffer[]) {
    this.keys = new Map(keys.map((key) => [keyId(key), key]));
    this.current = { id: keyId(keys[0]), key: keys[0] };
    this.originKeys = keys.map((key) =>
      Buffer.from(hkdfSync('sha256', key, 'nestjs-cluster-session', 'origin-binding-v1', 32)),
    );
  }

  /**
   * What a regenerate stores in field `o`: the id the values are bound to, and a MAC tying it to
   * the session's new id. Without the MAC, whoever can write Redis could copy a victim's values
   * into a session they hold a cookie for and name the victim's id as the origin.
   */
  bindOrigin(originId: string, currentId: string): string {
    return `${originId}.${originMac(this.originKeys[0], originId, currentId)}`;
  }

  /** The origin id in a stored `o` of the session `currentId`, or `null` when it is not genuine. */
  originOf(stored: unknown, currentId: string): string | null {
    if (typeof stored !== 'string') {
      return null;
    }
    const [originId, mac, ...rest] = stored.split('.');
    if (rest.length > 0 || mac === undefined || !/^[\w-]{43}$/.test(mac)) {
      return null;
    }
    const given = Buffer.from(mac, 'base64url');
    const genuine = this.originKeys.some((key) =>
      timingSafeEqual(Buffer.from(originMac(key, originId, currentId), 'base64url'), given),
    );
    return genuine ? originId : null;
  }

  encrypt(sessionId: string, field: string, plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(additionalData(sessionId, field));
    const body = Buffer.concat([
      iv,
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${PREFIX}:${this.current.id}:${body.toString('base64url')}`;
  }

  /** The plaintext, or `null` for anything not encrypted by one of the keys for this place. */
  decrypt(sessionId: string, field: string, stored: unknown): string | null {
    if (typeof stored !== 'string') {
      return null;
    }
    const [prefix, id, data, ...rest] = stored.split(':');
    const key = this.keys.get(id);
    if (prefix !== PREFIX || !key || data === undefined || rest.length > 0) {
      return null;
    }
    const body = Buffer.from(data, 'base64url');
    if (body.length < IV_BYTES + TAG_BYTES) {
      return null;
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES));
      decipher.setAAD(additionalData(sessionId, field));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return plain.toString('utf8');
    } catch {
      return null; // tampered, truncated, or for another session or field
    }
  }
}

/** Binds a value to its place: a ciphertext copied to another session or field fails. */
function additionalData(sessionId: string, field: string): Buffer {
  return Buffer.from(`${sessionId}|${field}`);
}

function originMac(key: Buffer, originId: string, currentId: string): string {
  return createHmac('sha256', key).update(`${originId}|${currentId}`).digest('base64url');
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}
