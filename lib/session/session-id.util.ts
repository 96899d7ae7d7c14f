import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes, base64url: 43 characters, 256 bits of entropy. */
export function generateSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A fresh id that keeps the first `tagLength` characters of `id` (its Redis Cluster hash tag) and
 * draws the rest anew: 43 characters, over 230 random bits for a tag of 4.
 */
export function generateSessionIdLike(id: string, tagLength: number): string {
  const fresh = randomBytes(32).toString('base64url');
  return id.slice(0, tagLength) + fresh.slice(tagLength);
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** True for strings shaped like an id from {@link generateSessionId}. */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

/**
 * How logs and errors name a session: a short hash of its id, never the id (not even a prefix),
 * so a log reader cannot use it; the same id always gives the same reference.
 */
export function sessionRef(id: string): string {
  return `#${createHash('sha256').update(id).digest('base64url').slice(0, 10)}`;
}
