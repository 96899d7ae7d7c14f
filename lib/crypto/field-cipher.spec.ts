import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { deriveEncryptionKeys, FieldCipher } from './field-cipher';

describe('FieldCipher (AES-256-GCM at rest)', () => {
  const [a, b] = [randomBytes(32), randomBytes(32)];
  const cipher = new FieldCipher([a]);

  it('round-trips, with a fresh IV each time (the same value never encrypts alike)', () => {
    const one = cipher.encrypt('sid', 'd:cart', '{"items":["x"]}');
    const two = cipher.encrypt('sid', 'd:cart', '{"items":["x"]}');
    expect(one).toMatch(/^e1:[0-9a-f]{8}:[\w-]+$/);
    expect(one).not.toBe(two);
    expect(one).not.toContain('items');
    expect(cipher.decrypt('sid', 'd:cart', one)).toBe('{"items":["x"]}');
  });

  it('binds each value to its session and field: moved elsewhere, it does not decrypt', () => {
    const stored = cipher.encrypt('sid', 'd:role', '"admin"');
    expect(cipher.decrypt('other', 'd:role', stored)).toBeNull();
    expect(cipher.decrypt('sid', 'd:name', stored)).toBeNull();
  });

  it('treats any tampering as no value', () => {
    const stored = cipher.encrypt('sid', 'd:x', '1');
    const [prefix, id, data] = stored.split(':');
    const body = Buffer.from(data, 'base64url');
    for (let i = 0; i < body.length; i++) {
      const flipped = Buffer.from(body);
      flipped[i] ^= 1;
      expect(
        cipher.decrypt('sid', 'd:x', `${prefix}:${id}:${flipped.toString('base64url')}`),
      ).toBeNull();
    }
    expect(cipher.decrypt('sid', 'd:x', stored.slice(0, -4))).toBeNull();
    expect(cipher.decrypt('sid', 'd:x', '1')).toBeNull(); // plaintext is not accepted
  });

  it('rotates: the first key encrypts, every key decrypts; a retired key no longer does', () => {
    const old = new FieldCipher([b]).encrypt('sid', 'd:x', '"old"');
    const rotated = new FieldCipher([a, b]);
    expect(rotated.decrypt('sid', 'd:x', old)).toBe('"old"');
    expect(
      new FieldCipher([b]).decrypt('sid', 'd:x', rotated.encrypt('sid', 'd:x', '1')),
    ).toBeNull();
    expect(cipher.decrypt('sid', 'd:x', old)).toBeNull();
  });

  it('derives distinct 32-byte keys from secrets (HKDF), never the secret itself', () => {
    const secret = 's'.repeat(32);
    const [key, other] = deriveEncryptionKeys([secret, 't'.repeat(32)]);
    expect(key).toHaveLength(32);
    expect(key.equals(Buffer.from(secret).subarray(0, 32))).toBe(false);
    expect(key.equals(other)).toBe(false);
    expect(deriveEncryptionKeys([secret])[0].equals(key)).toBe(true);
  });

  it('never throws on stored input, 100,000 generated values', () => {
    const valid = cipher.encrypt('sid', 'd:x', '1');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.string(),
          fc
            .tuple(fc.nat(valid.length), fc.string({ maxLength: 3 }))
            .map(([at, s]) => valid.slice(0, at) + s + valid.slice(at + 1)),
        ),
        (stored) => {
          const plain = cipher.decrypt('sid', 'd:x', stored);
          return plain === null || plain === '1';
        },
      ),
      { numRuns: 100_000 },
    );
  });
});
