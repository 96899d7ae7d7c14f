import { randomBytes } from 'node:crypto';

/** 32 random bytes, base64url: 43 characters, 256 bits of entropy. */
export function generateSessionId(): string {
  return randomBytes(32).toString('base64url');
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** True for strings shaped like an id from {@link generateSessionId}. */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}
