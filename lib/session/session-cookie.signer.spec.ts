import { createHmac } from 'node:crypto';
import { SessionCookieSigner } from './session-cookie.signer';
import { generateSessionId } from './session-id.util';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

describe('SessionCookieSigner', () => {
  const id = generateSessionId();

  it('signs ids with HMAC-SHA256 and reads them back', () => {
    const signer = new SessionCookieSigner(A);
    const value = signer.sign(id, 7);
    const mac = createHmac('sha256', A).update(`${id}:7`).digest('base64').replace(/=+$/, '');
    expect(value).toBe(`${id}:7.${mac}`);
    expect(signer.unsign(value)).toEqual({ id, version: 7 });
  });

  it('keeps accepting cookies from before versions (id only) as version 0', () => {
    const signer = new SessionCookieSigner(A);
    const legacy = signer.sign(id);
    expect(legacy).not.toContain(':');
    expect(signer.unsign(legacy)).toEqual({ id, version: 0 });
  });

  it('rejects a forged version: the signature covers it', () => {
    const signer = new SessionCookieSigner(A);
    const [signed, mac] = signer.sign(id, 3).split('.');
    expect(signer.unsign(`${signed.replace(':3', ':99')}.${mac}`)).toBeNull();
    expect(signer.unsign(`${signed.split(':')[0]}.${mac}`)).toBeNull();
    for (const version of ['0', '-1', '1.5', 'x', '', '1:2', '99999999999999999']) {
      expect(signer.unsign(signer.sign(`${id}:${version}`))).toBeNull();
    }
  });

  it('signs with the first secret and verifies with every secret (rotation)', () => {
    const old = new SessionCookieSigner(B).sign(id);
    const rotated = new SessionCookieSigner([A, B]);
    expect(rotated.unsign(old)).toEqual({ id, version: 0, resign: true }); // re-signed by the response
    expect(rotated.unsign(new SessionCookieSigner(B).sign(id, 4))).toEqual({
      id,
      version: 4,
      resign: true,
    });
    expect(rotated.unsign(rotated.sign(id, 4))).toEqual({ id, version: 4 });
    expect(rotated.sign(id)).toBe(new SessionCookieSigner(A).sign(id));
    expect(new SessionCookieSigner(A).unsign(old)).toBeNull();
  });

  it.each([
    ['a tampered id', (v: string) => `${v.startsWith('X') ? 'Y' : 'X'}${v.slice(1)}`],
    ['a tampered signature', (v: string) => `${v.slice(0, -1)}${v.endsWith('A') ? 'B' : 'A'}`],
    ['no signature', (v: string) => v.split('.')[0]],
    ['an empty string', () => ''],
    ['an oversized value', (v: string) => v + '.'.repeat(300)],
    ['garbage', () => '%%%.%%%'],
  ])('rejects %s', (_name, tamper) => {
    const signer = new SessionCookieSigner(A);
    expect(signer.unsign(tamper(signer.sign(id)))).toBeNull();
  });

  it('rejects a correctly signed value that is not a session id', () => {
    const signer = new SessionCookieSigner(A);
    expect(signer.unsign(signer.sign('not-an-id'))).toBeNull();
    expect(signer.unsign(signer.sign(`${id}x`))).toBeNull();
  });

  it('rejects values that are not strings', () => {
    const signer = new SessionCookieSigner(A);
    for (const value of [undefined, null, 42, {}, ['a.b']]) {
      expect(signer.unsign(value)).toBeNull();
    }
  });

  it('a value verified before answers the same, frozen; one differing by a character is verified again and fails', () => {
    const signer = new SessionCookieSigner([A, B]);
    const value = new SessionCookieSigner(B).sign(id, 5);
    const first = signer.unsign(value);
    expect(first).toEqual({ id, version: 5, resign: true });
    expect(signer.unsign(value)).toEqual(first);
    expect(Object.isFrozen(signer.unsign(value))).toBe(true);
    expect(signer.unsign(`${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(signer.unsign(`${value}x`)).toBeNull();
    // a rotated-out secret: a new signer (new secrets) remembers nothing of the old one
    expect(new SessionCookieSigner(A).unsign(value)).toBeNull();
  });
});
