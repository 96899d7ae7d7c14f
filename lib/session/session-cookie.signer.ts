import { sign, unsign } from 'cookie-signature';
import { LRUCache } from 'lru-cache';
import { isSessionId } from './session-id.util';

/** Longer cookie values are rejected before any HMAC is computed. */
const MAX_COOKIE_VALUE_LENGTH = 256;
const VERSION = /^[1-9]\d{0,15}$/;
/** Cookie values whose signature was verified, remembered so that a returning client costs no HMAC. */
const VERIFIED_VALUES = 10_000;

/** What a valid session cookie says: the id, and the version the client last wrote (0: unknown). */
export interface SessionCookieValue {
  id: string;
  version: number;
  /** Signed with a secret other than the newest: the response re-signs it with the newest. */
  resign?: boolean;
}

/**
 * Signs session cookies with HMAC-SHA256 (`cookie-signature`, as express-session does). The
 * signed value is `<id>:<version>`: the version of the last write this client saw, so any node
 * can tell that its cached copy is older (G9). Cookies from before versions (`<id>` alone) stay
 * valid, with version 0. The first secret signs; every secret verifies, so secrets rotate.
 */
export class SessionCookieSigner {
  private readonly secrets: readonly string[];
  /**
   * Values that verified, by the exact string: an HMAC-SHA256 per request was the largest cost
   * of reading a cached session (#17). A value not seen before, or differing by one character,
   * is verified in full; failures are not remembered, so garbage cookies cannot fill this.
   */
  private readonly verified = new LRUCache<string, SessionCookieValue>({ max: VERIFIED_VALUES });

  /** `secrets` must already be validated (non-empty, each at least 32 characters). */
  constructor(secrets: string | readonly string[]) {
    this.secrets = typeof secrets === 'string' ? [secrets] : [...secrets];
  }

  sign(id: string, version = 0): string {
    return sign(version > 0 ? `${id}:${version}` : id, this.secrets[0]);
  }

  /**
   * The id and version in a signed cookie value, or `null` when the value is malformed,
   * oversized, or carries a bad signature, a malformed id or a malformed version. Never throws:
   * cookies are untrusted input.
   */
  unsign(value: unknown): SessionCookieValue | null {
    if (
      typeof value !== 'string' ||
      value.length > MAX_COOKIE_VALUE_LENGTH ||
      !value.includes('.')
    ) {
      return null;
    }
    const known = this.verified.get(value);
    if (known) {
      return known;
    }
    const result = this.verify(value);
    if (result) {
      this.verified.set(value, result);
    }
    return result;
  }

  private verify(value: string): SessionCookieValue | null {
    for (const [index, secret] of this.secrets.entries()) {
      const signed = unsign(value, secret);
      if (signed === false) {
        continue;
      }
      const [id, version, ...rest] = signed.split(':');
      if (!isSessionId(id) || rest.length > 0) {
        return null;
      }
      if (version !== undefined && !VERSION.test(version)) {
        return null;
      }
      const parsed = { id, version: version === undefined ? 0 : Number(version) };
      // shared by every request that carries this value: nobody may change it
      return Object.freeze(index === 0 ? parsed : { ...parsed, resign: true });
    }
    return null;
  }
}
